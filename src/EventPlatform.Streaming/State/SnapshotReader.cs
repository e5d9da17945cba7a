using System.Buffers.Binary;
using System.Text;

namespace EventPlatform.Streaming.State;

/// <summary>
/// Reads what <see cref="SnapshotWriter"/> wrote. Every length and count is checked against the
/// bytes that remain before anything is allocated, so a corrupt or truncated snapshot ends in
/// <see cref="SnapshotFormatException"/>, never in a huge allocation. Not thread-safe.
/// </summary>
public sealed class SnapshotReader(ReadOnlyMemory<byte> snapshot)
{
    private readonly ReadOnlyMemory<byte> _snapshot = snapshot;
    private int _position;

    /// <summary>Bytes not read yet.</summary>
    public int Remaining => _snapshot.Length - _position;

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a boolean written as 0 or 1; any other byte is corruption.</summary>
    public bool ReadBoolean()
    {
        var value = ReadByte();
        Check(value <= 1, "a boolean is neither 0 nor 1");
        return value == 1;
    }

    /// <summary>Reads a 32-bit integer.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>Reads a 64-bit integer.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads a double.</summary>
    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>Reads a length-prefixed byte block of at most <paramref name="maxLength"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int maxLength)
    {
        var length = ReadCount(maxLength, bytesPerItem: 1);
        return Take(length);
    }

    /// <summary>Reads a length-prefixed UTF-8 string; invalid UTF-8 is corruption.</summary>
    public string ReadString(int maxBytes = 1 << 20)
    {
        var bytes = ReadBytes(maxBytes);
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new SnapshotFormatException("A string in the snapshot is not valid UTF-8.", e);
        }
    }

    /// <summary>
    /// Reads a count of items that each take at least <paramref name="bytesPerItem"/> bytes, refusing
    /// a negative count, one above <paramref name="max"/>, or one the remaining bytes cannot hold.
    /// </summary>
    public int ReadCount(int max, int bytesPerItem)
    {
        var count = ReadInt32();
        Check(count >= 0 && count <= max, $"a count of {count} is outside [0, {max}]");
        Check((long)count * Math.Max(bytesPerItem, 1) <= Remaining, $"a count of {count} exceeds the bytes that remain");
        return count;
    }

    /// <summary>Reads the leading format version byte of a section and refuses any other version.</summary>
    public void ExpectVersion(byte expected, string section)
    {
        var version = ReadByte();
        Check(version == expected, $"the {section} snapshot has format version {version}; this build reads version {expected}");
    }

    /// <summary>Refuses a snapshot with bytes after its end, which means it was not what we wrote.</summary>
    public void ExpectEnd() => Check(Remaining == 0, $"{Remaining} unexpected bytes follow the snapshot");

    /// <summary>Throws <see cref="SnapshotFormatException"/> with <paramref name="problem"/> unless <paramref name="condition"/> holds.</summary>
    public void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new SnapshotFormatException($"Corrupt snapshot at byte {_position}: {problem}.");
        }
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        Check(length <= Remaining, "it ends early");
        var span = _snapshot.Span.Slice(_position, length);
        _position += length;
        return span;
    }
}
