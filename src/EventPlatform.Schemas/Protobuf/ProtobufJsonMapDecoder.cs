using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>Map fields to JSON objects: keys as strings, a repeated key's last value wins.</summary>
internal static class ProtobufJsonMapDecoder
{
    private readonly record struct Entry(string Key, int ValueStart, int ValueEnd, WireType ValueWireType, bool HasValue);

    public static void WriteMap(ReadOnlySpan<byte> data, ProtobufFieldDescriptor field, ReadOnlySpan<FieldOccurrence> group, Utf8JsonWriter writer, int depth)
    {
        var entryType = field.MessageType!;
        var keyField = entryType.FindFieldByNumber(1)!;
        var valueField = entryType.FindFieldByNumber(2)!;
        var entries = new List<Entry>(group.Length);
        var positions = group.Length > 1 ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
        foreach (var occurrence in group)
        {
            var entry = ReadEntry(data[occurrence.Start..occurrence.End], occurrence.Start, keyField, valueField);
            if (positions is not null && positions.TryGetValue(entry.Key, out var earlier))
            {
                entries[earlier] = entry;
                continue;
            }

            positions?.Add(entry.Key, entries.Count);
            entries.Add(entry);
        }

        writer.WriteStartObject();
        foreach (var entry in entries)
        {
            writer.WritePropertyName(entry.Key);
            try
            {
                WriteValue(data, entry, valueField, writer, depth);
            }
            catch (ProtobufDecodeException e) when (e.AddOuter($"[{JsonSerializer.Serialize(entry.Key)}]"))
            {
                throw;
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(ReadOnlySpan<byte> data, Entry entry, ProtobufFieldDescriptor valueField, Utf8JsonWriter writer, int depth)
    {
        var value = data[entry.ValueStart..entry.ValueEnd];
        if (valueField.Type == ProtobufFieldType.Message)
        {
            // An absent message value is the empty message.
            ProtobufJsonDecoder.WriteMessage(value, valueField.MessageType!, writer, depth + 1);
        }
        else if (entry.HasValue)
        {
            var position = 0;
            ProtobufJsonDecoder.WriteScalar(value, ref position, valueField, entry.ValueWireType, writer);
        }
        else
        {
            var position = 0;
            ReadOnlySpan<byte> zero = [0];
            var wireType = valueField.WireType == WireType.Varint ? WireType.Varint : WireType.LengthDelimited;
            var defaultValue = valueField.WireType switch
            {
                WireType.Varint => zero,
                WireType.Fixed32 => [0, 0, 0, 0],
                WireType.Fixed64 => [0, 0, 0, 0, 0, 0, 0, 0],
                _ => [],
            };
            ProtobufJsonDecoder.WriteScalar(defaultValue, ref position, valueField, wireType, writer);
        }
    }

    /// <summary>Finds the key and value of one entry; positions are relative to the whole message.</summary>
    private static Entry ReadEntry(ReadOnlySpan<byte> entry, int offset, ProtobufFieldDescriptor keyField, ProtobufFieldDescriptor valueField)
    {
        var key = DefaultKey(keyField.Type);
        int valueStart = 0, valueEnd = 0;
        var valueWireType = valueField.WireType;
        var hasValue = false;
        var position = 0;
        while (ProtoWire.TryReadTag(entry, ref position, out var number, out var wireType))
        {
            var start = position;
            if (number == 1 && wireType == keyField.WireType)
            {
                key = ReadKey(entry, ref position, keyField.Type);
            }
            else if (number == 2 && wireType == valueField.WireType)
            {
                ProtoWire.Skip(entry, ref position, number, wireType);
                (valueStart, valueEnd, hasValue) = (start, position, true);
                if (wireType == WireType.LengthDelimited)
                {
                    var cursor = start;
                    valueStart = position - ProtoWire.ReadLengthDelimited(entry, ref cursor).Length;
                }
            }
            else
            {
                ProtoWire.Skip(entry, ref position, number, wireType);
            }
        }

        return new Entry(key, offset + valueStart, offset + valueEnd, valueWireType, hasValue);
    }

    private static string DefaultKey(ProtobufFieldType type) => type switch
    {
        ProtobufFieldType.String => string.Empty,
        ProtobufFieldType.Bool => "false",
        _ => "0",
    };

    private static string ReadKey(ReadOnlySpan<byte> entry, ref int position, ProtobufFieldType type)
    {
        var invariant = CultureInfo.InvariantCulture;
        return type switch
        {
            ProtobufFieldType.String => Utf8String(ProtoWire.ReadLengthDelimited(entry, ref position)),
            ProtobufFieldType.Bool => ProtoWire.ReadVarint(entry, ref position) != 0 ? "true" : "false",
            ProtobufFieldType.Int32 => ((int)ProtoWire.ReadVarint(entry, ref position)).ToString(invariant),
            ProtobufFieldType.Int64 => ((long)ProtoWire.ReadVarint(entry, ref position)).ToString(invariant),
            ProtobufFieldType.UInt32 => ((uint)ProtoWire.ReadVarint(entry, ref position)).ToString(invariant),
            ProtobufFieldType.UInt64 => ProtoWire.ReadVarint(entry, ref position).ToString(invariant),
            ProtobufFieldType.SInt32 => ProtoWire.DecodeZigZag32(ProtoWire.ReadVarint(entry, ref position)).ToString(invariant),
            ProtobufFieldType.SInt64 => ProtoWire.DecodeZigZag64(ProtoWire.ReadVarint(entry, ref position)).ToString(invariant),
            ProtobufFieldType.Fixed32 => ProtoWire.ReadFixed32(entry, ref position).ToString(invariant),
            ProtobufFieldType.SFixed32 => ((int)ProtoWire.ReadFixed32(entry, ref position)).ToString(invariant),
            ProtobufFieldType.Fixed64 => ProtoWire.ReadFixed64(entry, ref position).ToString(invariant),
            ProtobufFieldType.SFixed64 => ((long)ProtoWire.ReadFixed64(entry, ref position)).ToString(invariant),
            _ => throw new ProtobufDecodeException($"map key type {type} is not allowed"),
        };
    }

    private static string Utf8String(ReadOnlySpan<byte> bytes) =>
        Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : throw new ProtobufDecodeException("map key is not valid UTF-8");
}
