using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Avro binary encoding primitives, written straight into an <see cref="IBufferWriter{T}"/>, for
/// generic and hand-written encoders. Arrays and maps are blocks: <see cref="WriteBlockCount"/>
/// before a block's items, <see cref="WriteEndOfBlocks"/> after the last block.
/// </summary>
public static class AvroBinaryWriter
{
    /// <summary>The most bytes a zigzag varint long takes.</summary>
    public const int MaxVarLongLength = 10;

    /// <summary>Writes an <c>int</c> (zigzag varint).</summary>
    public static void WriteInt(IBufferWriter<byte> output, int value) => WriteLong(output, value);

    /// <summary>Writes a <c>long</c> (zigzag varint).</summary>
    public static void WriteLong(IBufferWriter<byte> output, long value)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Advance(WriteVarLong(output.GetSpan(MaxVarLongLength), value));
    }

    /// <summary>Writes a zigzag varint into <paramref name="destination"/> (at least 10 bytes long).</summary>
    /// <returns>The number of bytes written.</returns>
    public static int WriteVarLong(Span<byte> destination, long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (zigzag >= 0x80)
        {
            destination[i++] = (byte)(zigzag | 0x80);
            zigzag >>= 7;
        }

        destination[i++] = (byte)zigzag;
        return i;
    }

    /// <summary>The number of bytes <see cref="WriteVarLong"/> writes for <paramref name="value"/>.</summary>
    public static int VarLongLength(long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        var length = 1;
        while (zigzag >= 0x80)
        {
            length++;
            zigzag >>= 7;
        }

        return length;
    }

    /// <summary>Writes a <c>boolean</c> (one byte, 0 or 1).</summary>
    public static void WriteBoolean(IBufferWriter<byte> output, bool value)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.GetSpan(1)[0] = value ? (byte)1 : (byte)0;
        output.Advance(1);
    }

    /// <summary>Writes a <c>float</c> (4 bytes, little-endian IEEE 754).</summary>
    public static void WriteFloat(IBufferWriter<byte> output, float value)
    {
        ArgumentNullException.ThrowIfNull(output);
        BinaryPrimitives.WriteSingleLittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    /// <summary>Writes a <c>double</c> (8 bytes, little-endian IEEE 754).</summary>
    public static void WriteDouble(IBufferWriter<byte> output, double value)
    {
        ArgumentNullException.ThrowIfNull(output);
        BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    /// <summary>Writes <c>bytes</c>: the length, then the bytes.</summary>
    public static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        WriteLong(output, value.Length);
        WriteFixed(output, value);
    }

    /// <summary>Writes a <c>fixed</c> value: the bytes alone (the schema gives the size).</summary>
    public static void WriteFixed(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        value.CopyTo(output.GetSpan(value.Length));
        output.Advance(value.Length);
    }

    /// <summary>Writes a <c>string</c> already encoded as UTF-8.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8) => WriteBytes(output, utf8);

    /// <summary>Writes a <c>string</c> from UTF-16 (encoded to UTF-8 in place, no intermediate copy).</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        var length = Encoding.UTF8.GetByteCount(value);
        WriteLong(output, length);
        var written = Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(written);
    }

    /// <summary>Writes the index of the union branch that follows.</summary>
    public static void WriteUnionIndex(IBufferWriter<byte> output, int index) => WriteLong(output, index);

    /// <summary>Writes an <c>enum</c> value: the symbol's index.</summary>
    public static void WriteEnum(IBufferWriter<byte> output, int index) => WriteLong(output, index);

    /// <summary>Starts a block of <paramref name="count"/> (positive) array items or map entries.</summary>
    public static void WriteBlockCount(IBufferWriter<byte> output, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        WriteLong(output, count);
    }

    /// <summary>Ends an array or a map (an empty one is this alone).</summary>
    public static void WriteEndOfBlocks(IBufferWriter<byte> output) => WriteLong(output, 0);
}
