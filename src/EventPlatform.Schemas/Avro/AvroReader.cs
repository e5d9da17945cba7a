using System.Runtime.CompilerServices;
using System.Buffers.Binary;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Reads Avro binary primitives from a span, checking every length against what is left, so that
/// malformed input ends in an <see cref="AvroDecodeException"/> and never reads out of range.
/// </summary>
internal ref struct AvroReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _maxDepth;
    private int _depth;

    public AvroReader(ReadOnlySpan<byte> data, AvroDecoderOptions options)
    {
        _data = data;
        _maxDepth = options.MaxDepth;
        ZeroWidthBudget = options.MaxZeroWidthItems;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    /// <summary>How many more items that take no bytes (nulls, empty records) the datum may hold.</summary>
    public long ZeroWidthBudget { get; set; }

    public long ReadLong()
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (Position >= _data.Length)
            {
                throw Truncated("a varint");
            }

            var b = _data[Position++];

            // The tenth byte may carry only the top bit of the 64.
            if (shift == 63 && b > 1)
            {
                throw Malformed("a varint longer than 64 bits");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (long)(value >> 1) ^ -(long)(value & 1);
            }
        }
    }

    public int ReadInt()
    {
        var value = ReadLong();
        return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Malformed($"an int out of range ({value})");
    }

    public bool ReadBoolean() => Take(1, "a boolean")[0] switch
    {
        0 => false,
        1 => true,
        var b => throw Malformed($"a boolean byte {b} (must be 0 or 1)"),
    };

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4, "a float"));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, "a double"));

    /// <summary>A length-prefixed byte string (bytes or string).</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadLong();
        if (length < 0)
        {
            throw Malformed($"a negative length ({length})");
        }

        return length <= Remaining ? Take((int)length, "bytes") : throw Truncated($"{length} bytes");
    }

    public ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
        {
            throw Truncated(what);
        }

        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }

    /// <summary>
    /// The item count of the next array or map block (0 at the end). A negative count is followed by
    /// the block's size in bytes, which is checked and, when <paramref name="skipBlock"/>, skipped whole.
    /// </summary>
    public long ReadBlockCount(bool zeroWidthItems, bool skipBlock, out bool skipped)
    {
        skipped = false;
        var count = ReadLong();
        if (count < 0)
        {
            if (count == long.MinValue)
            {
                throw Malformed("a block count out of range");
            }

            count = -count;
            var size = ReadLong();
            if (size < 0 || size > Remaining)
            {
                throw size < 0 ? Malformed($"a negative block size ({size})") : Truncated($"a block of {size} bytes");
            }

            if (skipBlock)
            {
                Position += (int)size;
                skipped = true;
                return count;
            }
        }

        // Items of at least one byte cannot outnumber the bytes left; others draw on a budget.
        if (!zeroWidthItems && count > Remaining)
        {
            throw Truncated($"a block of {count} items");
        }

        if (zeroWidthItems)
        {
            ZeroWidthBudget -= count;
            if (ZeroWidthBudget < 0)
            {
                throw Malformed("more items that take no bytes than the decoder allows");
            }
        }

        return count;
    }

    public void Enter()
    {
        if (++_depth > _maxDepth)
        {
            throw Malformed($"values nested more than {_maxDepth} levels deep");
        }

        // The backstop on small stacks, below the configured depth.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Malformed($"values nested too deep for this server's stack ({_depth} levels)");
        }
    }

    public void Leave() => _depth--;

    public readonly AvroDecodeException Malformed(string what) => new($"Malformed Avro data at byte {Position}: {what}.");

    private readonly AvroDecodeException Truncated(string what) =>
        new($"Truncated Avro data at byte {Position}: expected {what} but only {Remaining} bytes are left.");
}
