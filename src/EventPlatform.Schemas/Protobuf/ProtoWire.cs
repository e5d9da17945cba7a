using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>The protobuf wire types.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// Reading protobuf wire primitives from a span at a position. Malformed input throws a
/// <see cref="ProtobufDecodeException"/> without a path; the decoder adds the field path.
/// </summary>
internal static class ProtoWire
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        // Fast path: one byte.
        if ((uint)position < (uint)data.Length && data[position] < 0x80)
        {
            return data[position++];
        }

        return ReadVarintSlow(data, ref position);
    }

    private static ulong ReadVarintSlow(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new ProtobufDecodeException("truncated varint");
            }

            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new ProtobufDecodeException("varint longer than 10 bytes");
    }

    public static uint ReadFixed32(ReadOnlySpan<byte> data, ref int position)
    {
        if (data.Length - position < 4)
        {
            throw new ProtobufDecodeException("truncated fixed32");
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
        position += 4;
        return value;
    }

    public static ulong ReadFixed64(ReadOnlySpan<byte> data, ref int position)
    {
        if (data.Length - position < 8)
        {
            throw new ProtobufDecodeException("truncated fixed64");
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(data[position..]);
        position += 8;
        return value;
    }

    /// <summary>A length-delimited value's bytes.</summary>
    public static ReadOnlySpan<byte> ReadLengthDelimited(ReadOnlySpan<byte> data, ref int position)
    {
        var length = ReadVarint(data, ref position);
        if (length > (ulong)(data.Length - position))
        {
            throw new ProtobufDecodeException($"length {length} runs past the end of the message");
        }

        var value = data.Slice(position, (int)length);
        position += (int)length;
        return value;
    }

    /// <summary>Reads a tag; false at the end of the data.</summary>
    public static bool TryReadTag(ReadOnlySpan<byte> data, ref int position, out int fieldNumber, out WireType wireType)
    {
        if (position >= data.Length)
        {
            fieldNumber = 0;
            wireType = default;
            return false;
        }

        var tag = ReadVarint(data, ref position);
        fieldNumber = (int)(tag >> 3);
        wireType = (WireType)(tag & 7);
        if (tag >> 3 is 0 or > 536870911)
        {
            throw new ProtobufDecodeException($"invalid field number {tag >> 3}");
        }

        return true;
    }

    /// <summary>Skips one value of an unknown field.</summary>
    public static void Skip(ReadOnlySpan<byte> data, ref int position, int fieldNumber, WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint(data, ref position);
                break;
            case WireType.Fixed64:
                ReadFixed64(data, ref position);
                break;
            case WireType.LengthDelimited:
                ReadLengthDelimited(data, ref position);
                break;
            case WireType.Fixed32:
                ReadFixed32(data, ref position);
                break;
            case WireType.StartGroup:
                SkipGroup(data, ref position, fieldNumber);
                break;
            default:
                throw new ProtobufDecodeException($"invalid wire type {(int)wireType} for field {fieldNumber}");
        }
    }

    private static void SkipGroup(ReadOnlySpan<byte> data, ref int position, int groupNumber)
    {
        while (TryReadTag(data, ref position, out var number, out var wireType))
        {
            if (wireType == WireType.EndGroup)
            {
                if (number != groupNumber)
                {
                    throw new ProtobufDecodeException($"group {groupNumber} ended by tag {number}");
                }

                return;
            }

            Skip(data, ref position, number, wireType);
        }

        throw new ProtobufDecodeException($"group {groupNumber} is not ended");
    }

    public static int DecodeZigZag32(ulong value) => (int)((uint)value >> 1) ^ -(int)((uint)value & 1);

    public static long DecodeZigZag64(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    public static ulong EncodeZigZag32(int value) => (uint)((value << 1) ^ (value >> 31));

    public static ulong EncodeZigZag64(long value) => (ulong)((value << 1) ^ (value >> 63));

    public static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    public static int WriteVarint(ulong value, Span<byte> destination)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }
}
