using System.Buffers;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// The message indexes of Confluent's Protobuf wire format, written after the magic byte and the
/// schema id: which message of the schema the payload is, as a path of indexes (a top-level
/// message's index in the file, then nested indexes). Encoded as a zigzag varint count and zigzag
/// varint indexes; the single byte 0 stands for <c>[0]</c>, the first message.
/// </summary>
public static class ProtobufMessageIndexes
{
    private static readonly int[] FirstMessage = [0];

    /// <summary>The indexes of the file's first message.</summary>
    public static IReadOnlyList<int> First => FirstMessage;

    /// <summary>Reads the indexes at the start of <paramref name="source"/>.</summary>
    /// <returns>The number of bytes read (the Protobuf payload follows).</returns>
    /// <exception cref="ProtobufDecodeException">Truncated or impossible indexes.</exception>
    public static int Read(ReadOnlySpan<byte> source, out IReadOnlyList<int> indexes)
    {
        var position = 0;
        var count = ReadInt(source, ref position);
        if (count == 0)
        {
            indexes = FirstMessage;
            return position;
        }

        // Each index takes at least one byte: a larger count is corrupt (and must not allocate).
        if (count < 0 || count > source.Length - position)
        {
            throw new ProtobufDecodeException($"invalid message index count {count}");
        }

        var read = new int[count];
        for (var i = 0; i < count; i++)
        {
            read[i] = ReadInt(source, ref position);
        }

        indexes = read;
        return position;
    }

    /// <summary>The number of bytes <see cref="Write(ReadOnlySpan{int}, Span{byte})"/> writes.</summary>
    public static int GetSize(ReadOnlySpan<int> indexes)
    {
        if (IsFirstMessage(indexes))
        {
            return 1;
        }

        var size = ProtoWire.VarintSize(ProtoWire.EncodeZigZag32(indexes.Length));
        foreach (var index in indexes)
        {
            size += ProtoWire.VarintSize(ProtoWire.EncodeZigZag32(index));
        }

        return size;
    }

    /// <summary>Writes the indexes; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<int> indexes, Span<byte> destination)
    {
        if (IsFirstMessage(indexes))
        {
            destination[0] = 0;
            return 1;
        }

        var position = ProtoWire.WriteVarint(ProtoWire.EncodeZigZag32(indexes.Length), destination);
        foreach (var index in indexes)
        {
            position += ProtoWire.WriteVarint(ProtoWire.EncodeZigZag32(index), destination[position..]);
        }

        return position;
    }

    /// <summary>Writes the indexes to a buffer writer.</summary>
    public static void Write(ReadOnlySpan<int> indexes, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var size = GetSize(indexes);
        Write(indexes, output.GetSpan(size));
        output.Advance(size);
    }

    /// <summary>The message at <paramref name="indexes"/> among a file's top-level messages.</summary>
    /// <exception cref="ProtobufDecodeException">No message has these indexes.</exception>
    public static ProtobufMessageDescriptor Resolve(IReadOnlyList<ProtobufMessageDescriptor> topLevel, ReadOnlySpan<int> indexes)
    {
        ArgumentNullException.ThrowIfNull(topLevel);
        var candidates = topLevel;
        ProtobufMessageDescriptor? message = null;
        foreach (var index in indexes)
        {
            if ((uint)index >= (uint)candidates.Count)
            {
                throw new ProtobufDecodeException($"message index {index} is out of range (the schema has {candidates.Count} messages there)");
            }

            message = candidates[index];
            candidates = message.NestedMessages;
        }

        return message ?? Resolve(topLevel, FirstMessage);
    }

    /// <summary>The indexes of the message with this full name, or null when the file has none.</summary>
    public static IReadOnlyList<int>? Find(IReadOnlyList<ProtobufMessageDescriptor> topLevel, string fullName)
    {
        ArgumentNullException.ThrowIfNull(topLevel);
        ArgumentNullException.ThrowIfNull(fullName);
        var path = new List<int>();
        return Search(topLevel, fullName.TrimStart('.'), path) ? path : null;
    }

    private static bool Search(IReadOnlyList<ProtobufMessageDescriptor> messages, string fullName, List<int> path)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var length = message.FullName.Length;
            var isPrefix = fullName.StartsWith(message.FullName, StringComparison.Ordinal)
                && (fullName.Length == length || fullName[length] == '.');
            if (!isPrefix)
            {
                continue;
            }

            path.Add(i);
            if (fullName.Length == length || Search(message.NestedMessages, fullName, path))
            {
                return true;
            }

            path.RemoveAt(path.Count - 1);
        }

        return false;
    }

    private static bool IsFirstMessage(ReadOnlySpan<int> indexes) =>
        indexes.IsEmpty || (indexes.Length == 1 && indexes[0] == 0);

    private static int ReadInt(ReadOnlySpan<byte> source, ref int position)
    {
        var value = ProtoWire.ReadVarint(source, ref position);
        if (value > uint.MaxValue)
        {
            throw new ProtobufDecodeException("message index does not fit 32 bits");
        }

        return ProtoWire.DecodeZigZag32(value);
    }
}
