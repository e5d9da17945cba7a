using System.Runtime.CompilerServices;
using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>One value of a known field on the wire: its bytes (after the length, for length-delimited).</summary>
internal readonly record struct FieldOccurrence(int FieldIndex, int Start, int End, WireType WireType);

/// <summary>
/// Protobuf bytes to JSON. A message is scanned once into a list of field occurrences (value
/// spans), then written in declaration order, so repeated fields split on the wire, last-wins
/// scalars and oneofs come out as proto3 JSON expects.
/// </summary>
internal static class ProtobufJsonDecoder
{
    // Each level takes several large frames: 64 levels fit well within a 256 KiB stack.
    private const int MaxDepth = 64;

    public static void WriteMessage(ReadOnlySpan<byte> data, ProtobufMessageDescriptor message, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufDecodeException($"messages nested deeper than {MaxDepth}");
        }

        // The backstop on small stacks, below MaxDepth: each level takes several frames.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new ProtobufDecodeException($"messages nested too deep for this server's stack ({depth} levels)");
        }

        if (message.WellKnownType is ProtobufWellKnownType.Timestamp or ProtobufWellKnownType.Duration)
        {
            WriteTime(data, message.WellKnownType, writer);
            return;
        }

        var occurrences = ArrayPool<FieldOccurrence>.Shared.Rent(16);
        try
        {
            var count = Scan(data, message, ref occurrences);
            var found = occurrences.AsSpan(0, count);
            if (message.WellKnownType == ProtobufWellKnownType.None)
            {
                WriteFields(data, message, found, writer, depth);
            }
            else
            {
                WriteUnwrapped(data, message, found, writer, depth);
            }
        }
        finally
        {
            ArrayPool<FieldOccurrence>.Shared.Return(occurrences);
        }
    }

    /// <summary>Records every known field's values, sorted by declaration (stable: wire order within a field).</summary>
    private static int Scan(ReadOnlySpan<byte> data, ProtobufMessageDescriptor message, ref FieldOccurrence[] occurrences)
    {
        var count = 0;
        var sorted = true;
        var position = 0;
        while (ProtoWire.TryReadTag(data, ref position, out var number, out var wireType))
        {
            var field = message.FindFieldByNumber(number);
            var start = position;
            try
            {
                if (field is null || !WireTypeFits(field, wireType))
                {
                    // Unknown fields, and known ones with another wire type (as protobuf parsers do), are skipped.
                    ProtoWire.Skip(data, ref position, number, wireType);
                    continue;
                }

                if (wireType == WireType.LengthDelimited)
                {
                    var value = ProtoWire.ReadLengthDelimited(data, ref position);
                    start = position - value.Length;
                }
                else
                {
                    ProtoWire.Skip(data, ref position, number, wireType);
                }
            }
            catch (ProtobufDecodeException e) when (e.AddOuter(field?.Name ?? $"#{number}"))
            {
                throw;
            }

            if (count == occurrences.Length)
            {
                var larger = ArrayPool<FieldOccurrence>.Shared.Rent(count * 2);
                occurrences.AsSpan().CopyTo(larger);
                ArrayPool<FieldOccurrence>.Shared.Return(occurrences);
                occurrences = larger;
            }

            sorted &= count == 0 || occurrences[count - 1].FieldIndex <= field.Index;
            occurrences[count++] = new FieldOccurrence(field.Index, start, position, wireType);
        }

        if (!sorted)
        {
            StableSortByField(occurrences.AsSpan(0, count));
        }

        return count;
    }

    private static bool WireTypeFits(ProtobufFieldDescriptor field, WireType wireType) =>
        wireType == field.WireType
        || (wireType == WireType.LengthDelimited && field.IsRepeated && field.WireType != WireType.LengthDelimited);

    private static void StableSortByField(Span<FieldOccurrence> occurrences)
    {
        // Insertion sort: stable, and messages are small and nearly sorted.
        for (var i = 1; i < occurrences.Length; i++)
        {
            var item = occurrences[i];
            var j = i - 1;
            while (j >= 0 && occurrences[j].FieldIndex > item.FieldIndex)
            {
                occurrences[j + 1] = occurrences[j];
                j--;
            }

            occurrences[j + 1] = item;
        }
    }

    private static void WriteFields(ReadOnlySpan<byte> data, ProtobufMessageDescriptor message, ReadOnlySpan<FieldOccurrence> found, Utf8JsonWriter writer, int depth)
    {
        writer.WriteStartObject();
        var oneofWinners = OneofWinners(message, found);
        for (var i = 0; i < found.Length;)
        {
            var end = i + 1;
            while (end < found.Length && found[end].FieldIndex == found[i].FieldIndex)
            {
                end++;
            }

            var field = message.Fields[found[i].FieldIndex];
            var group = found[i..end];
            i = end;
            if (field.OneofIndex >= 0 && oneofWinners[field.OneofIndex] != field.Index)
            {
                continue;
            }

            if (!field.HasPresence && !field.IsRepeated && IsDefault(data, group[^1]))
            {
                continue;
            }

            writer.WritePropertyName(field.EncodedName);
            WriteFieldValue(data, field, group, writer, depth);
        }

        writer.WriteEndObject();
    }

    /// <summary>For each oneof, the field whose value came last on the wire (it wins).</summary>
    private static int[] OneofWinners(ProtobufMessageDescriptor message, ReadOnlySpan<FieldOccurrence> found)
    {
        if (message.Oneofs.Count == 0)
        {
            return [];
        }

        var winners = new int[message.Oneofs.Count];
        var positions = new int[message.Oneofs.Count];
        winners.AsSpan().Fill(-1);
        foreach (var occurrence in found)
        {
            var oneof = message.Fields[occurrence.FieldIndex].OneofIndex;
            if (oneof >= 0 && occurrence.Start >= positions[oneof])
            {
                winners[oneof] = occurrence.FieldIndex;
                positions[oneof] = occurrence.Start;
            }
        }

        return winners;
    }

    /// <summary>Struct, ListValue, Value and the wrappers are written as their single field's value.</summary>
    private static void WriteUnwrapped(ReadOnlySpan<byte> data, ProtobufMessageDescriptor message, ReadOnlySpan<FieldOccurrence> found, Utf8JsonWriter writer, int depth)
    {
        if (message.WellKnownType == ProtobufWellKnownType.Value)
        {
            // The last kind set wins; a Value with no kind is written as null.
            if (found.IsEmpty)
            {
                writer.WriteNullValue();
                return;
            }

            var last = found[0];
            foreach (var occurrence in found)
            {
                last = occurrence.Start > last.Start ? occurrence : last;
            }

            var kind = message.Fields[last.FieldIndex];
            if (kind.Type == ProtobufFieldType.Double && !double.IsFinite(ReadDouble(data, last)))
            {
                throw new ProtobufDecodeException("a Value's number_value cannot be NaN or Infinity in JSON");
            }

            WriteValue(data, kind, FieldGroup(found, last.FieldIndex), writer, depth);
            return;
        }

        var field = message.Fields[0];
        var group = FieldGroup(found, 0);
        if (group.IsEmpty && !field.IsRepeated)
        {
            WriteDefault(field, writer);
        }
        else if (group.IsEmpty)
        {
            if (field.IsMap)
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartArray();
                writer.WriteEndArray();
            }
        }
        else
        {
            WriteValue(data, field, group, writer, depth);
        }
    }

    private static ReadOnlySpan<FieldOccurrence> FieldGroup(ReadOnlySpan<FieldOccurrence> found, int fieldIndex)
    {
        var start = 0;
        while (start < found.Length && found[start].FieldIndex != fieldIndex)
        {
            start++;
        }

        var end = start;
        while (end < found.Length && found[end].FieldIndex == fieldIndex)
        {
            end++;
        }

        return found[start..end];
    }

    /// <summary>A field's JSON value from all its occurrences; errors are located at the field.</summary>
    private static void WriteFieldValue(ReadOnlySpan<byte> data, ProtobufFieldDescriptor field, ReadOnlySpan<FieldOccurrence> group, Utf8JsonWriter writer, int depth)
    {
        try
        {
            WriteValue(data, field, group, writer, depth);
        }
        catch (ProtobufDecodeException e) when (e.AddOuter(field.Name))
        {
            throw;
        }
    }

    /// <summary>A field's JSON value (unwrapped well-known types have no name of their own in paths).</summary>
    private static void WriteValue(ReadOnlySpan<byte> data, ProtobufFieldDescriptor field, ReadOnlySpan<FieldOccurrence> group, Utf8JsonWriter writer, int depth)
    {
        if (field.IsMap)
        {
            ProtobufJsonMapDecoder.WriteMap(data, field, group, writer, depth);
        }
        else if (field.IsRepeated)
        {
            WriteArray(data, field, group, writer, depth);
        }
        else if (field.Type == ProtobufFieldType.Message)
        {
            WriteSingularMessage(data, field, group, writer, depth);
        }
        else
        {
            var last = group[^1];
            var position = last.Start;
            WriteScalar(data[..last.End], ref position, field, last.WireType, writer);
        }
    }

    private static void WriteSingularMessage(ReadOnlySpan<byte> data, ProtobufFieldDescriptor field, ReadOnlySpan<FieldOccurrence> group, Utf8JsonWriter writer, int depth)
    {
        if (group.Length == 1)
        {
            WriteMessage(data[group[0].Start..group[0].End], field.MessageType!, writer, depth + 1);
            return;
        }

        // A message split over several occurrences is their merge, which is their concatenation.
        var merged = new ArrayBufferWriter<byte>();
        foreach (var occurrence in group)
        {
            merged.Write(data[occurrence.Start..occurrence.End]);
        }

        WriteMessage(merged.WrittenSpan, field.MessageType!, writer, depth + 1);
    }

    private static void WriteArray(ReadOnlySpan<byte> data, ProtobufFieldDescriptor field, ReadOnlySpan<FieldOccurrence> group, Utf8JsonWriter writer, int depth)
    {
        writer.WriteStartArray();
        var index = 0;
        foreach (var occurrence in group)
        {
            var packed = occurrence.WireType == WireType.LengthDelimited && field.WireType != WireType.LengthDelimited;
            var value = data[..occurrence.End];
            var position = occurrence.Start;
            do
            {
                try
                {
                    if (field.Type == ProtobufFieldType.Message)
                    {
                        WriteMessage(value[position..], field.MessageType!, writer, depth + 1);
                        position = value.Length;
                    }
                    else
                    {
                        WriteScalar(value, ref position, field, packed ? field.WireType : occurrence.WireType, writer);
                    }
                }
                catch (ProtobufDecodeException e) when (e.AddOuter($"[{index}]"))
                {
                    throw;
                }

                index++;
            }
            while (packed && position < value.Length);
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads one scalar at <paramref name="position"/> and writes it.</summary>
    internal static void WriteScalar(ReadOnlySpan<byte> data, ref int position, ProtobufFieldDescriptor field, WireType wireType, Utf8JsonWriter writer)
    {
        switch (field.Type)
        {
            case ProtobufFieldType.Double:
                WriteFloatingPoint(BitConverter.UInt64BitsToDouble(ProtoWire.ReadFixed64(data, ref position)), writer);
                break;
            case ProtobufFieldType.Float:
                var single = BitConverter.UInt32BitsToSingle(ProtoWire.ReadFixed32(data, ref position));
                if (float.IsFinite(single))
                {
                    writer.WriteNumberValue(single);
                }
                else
                {
                    WriteFloatingPoint(single, writer);
                }

                break;
            case ProtobufFieldType.Int64:
                writer.WriteNumberValue((long)ProtoWire.ReadVarint(data, ref position));
                break;
            case ProtobufFieldType.UInt64:
                writer.WriteNumberValue(ProtoWire.ReadVarint(data, ref position));
                break;
            case ProtobufFieldType.Int32:
                writer.WriteNumberValue((int)ProtoWire.ReadVarint(data, ref position));
                break;
            case ProtobufFieldType.UInt32:
                writer.WriteNumberValue((uint)ProtoWire.ReadVarint(data, ref position));
                break;
            case ProtobufFieldType.SInt32:
                writer.WriteNumberValue(ProtoWire.DecodeZigZag32(ProtoWire.ReadVarint(data, ref position)));
                break;
            case ProtobufFieldType.SInt64:
                writer.WriteNumberValue(ProtoWire.DecodeZigZag64(ProtoWire.ReadVarint(data, ref position)));
                break;
            case ProtobufFieldType.Fixed32:
                writer.WriteNumberValue(ProtoWire.ReadFixed32(data, ref position));
                break;
            case ProtobufFieldType.SFixed32:
                writer.WriteNumberValue((int)ProtoWire.ReadFixed32(data, ref position));
                break;
            case ProtobufFieldType.Fixed64:
                writer.WriteNumberValue(ProtoWire.ReadFixed64(data, ref position));
                break;
            case ProtobufFieldType.SFixed64:
                writer.WriteNumberValue((long)ProtoWire.ReadFixed64(data, ref position));
                break;
            case ProtobufFieldType.Bool:
                writer.WriteBooleanValue(ProtoWire.ReadVarint(data, ref position) != 0);
                break;
            case ProtobufFieldType.Enum:
                WriteEnum((int)ProtoWire.ReadVarint(data, ref position), field.EnumType!, writer);
                break;
            case ProtobufFieldType.String:
                var text = wireType == WireType.LengthDelimited ? data[position..] : throw new ProtobufDecodeException("a string must be length-delimited");
                if (!Utf8.IsValid(text))
                {
                    throw new ProtobufDecodeException("string is not valid UTF-8");
                }

                writer.WriteStringValue(text);
                position = data.Length;
                break;
            case ProtobufFieldType.Bytes:
                writer.WriteBase64StringValue(data[position..]);
                position = data.Length;
                break;
            default:
                throw new ProtobufDecodeException($"field type {field.Type} is not supported");
        }
    }

    private static void WriteEnum(int number, ProtobufEnumDescriptor enumType, Utf8JsonWriter writer)
    {
        if (enumType.FullName == "google.protobuf.NullValue")
        {
            writer.WriteNullValue();
        }
        else if (enumType.TryGetEncodedName(number, out var name))
        {
            writer.WriteStringValue(name);
        }
        else
        {
            // Values unknown to the schema (from a newer writer) keep their number, as proto3 JSON does.
            writer.WriteNumberValue(number);
        }
    }

    private static void WriteFloatingPoint(double value, Utf8JsonWriter writer)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static double ReadDouble(ReadOnlySpan<byte> data, FieldOccurrence occurrence)
    {
        var position = occurrence.Start;
        return BitConverter.UInt64BitsToDouble(ProtoWire.ReadFixed64(data, ref position));
    }

    /// <summary>True when a scalar's value is its type's default (0, false, empty), which proto3 JSON omits.</summary>
    private static bool IsDefault(ReadOnlySpan<byte> data, FieldOccurrence occurrence) => occurrence.WireType switch
    {
        WireType.LengthDelimited => occurrence.Start == occurrence.End,
        WireType.Varint => IsZeroVarint(data[occurrence.Start..occurrence.End]),
        _ => !data[occurrence.Start..occurrence.End].ContainsAnyExcept((byte)0),
    };

    private static bool IsZeroVarint(ReadOnlySpan<byte> varint)
    {
        var position = 0;
        return ProtoWire.ReadVarint(varint, ref position) == 0;
    }

    private static void WriteDefault(ProtobufFieldDescriptor field, Utf8JsonWriter writer)
    {
        switch (field.Type)
        {
            case ProtobufFieldType.String:
            case ProtobufFieldType.Bytes:
                writer.WriteStringValue(string.Empty);
                break;
            case ProtobufFieldType.Bool:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNumberValue(0);
                break;
        }
    }

    private static void WriteTime(ReadOnlySpan<byte> data, ProtobufWellKnownType type, Utf8JsonWriter writer)
    {
        long seconds = 0;
        var nanos = 0;
        var position = 0;
        while (ProtoWire.TryReadTag(data, ref position, out var number, out var wireType))
        {
            if (number is 1 or 2 && wireType == WireType.Varint)
            {
                var value = ProtoWire.ReadVarint(data, ref position);
                (seconds, nanos) = number == 1 ? ((long)value, nanos) : (seconds, (int)value);
            }
            else
            {
                ProtoWire.Skip(data, ref position, number, wireType);
            }
        }

        writer.WriteStringValue(type == ProtobufWellKnownType.Timestamp
            ? ProtoTimeJson.FormatTimestamp(seconds, nanos)
            : ProtoTimeJson.FormatDuration(seconds, nanos));
    }
}
