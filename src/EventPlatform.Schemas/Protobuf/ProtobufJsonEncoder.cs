using System.Runtime.CompilerServices;
using System.Text.Json;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// JSON to Protobuf bytes, the reverse of <see cref="ProtobufJsonDecoder"/>. Fields are written in
/// the JSON's order; proto3 scalars holding their default value are left out, as protobuf does.
/// </summary>
internal static class ProtobufJsonEncoder
{
    // Each level takes several large frames: 64 levels fit well within a 256 KiB stack.
    private const int MaxDepth = 64;

    public static void WriteMessage(JsonElement json, ProtobufMessageDescriptor message, ProtoBufferWriter output, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufEncodeException($"messages nested deeper than {MaxDepth}");
        }

        // The backstop on small stacks, below MaxDepth: each level takes several frames.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new ProtobufEncodeException($"messages nested too deep for this server's stack ({depth} levels)");
        }

        switch (message.WellKnownType)
        {
            case ProtobufWellKnownType.None:
                WriteFields(json, message, output, depth);
                break;
            case ProtobufWellKnownType.Timestamp or ProtobufWellKnownType.Duration:
                WriteTime(json, message.WellKnownType, output);
                break;
            case ProtobufWellKnownType.Value:
                WriteValue(json, message, output, depth);
                break;
            default:
                // Struct, ListValue and the wrappers are their single field's value.
                WriteFieldValue(json, message.Fields[0], output, depth);
                break;
        }
    }

    private static void WriteFields(JsonElement json, ProtobufMessageDescriptor message, ProtoBufferWriter output, int depth)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new ProtobufEncodeException($"expected a JSON object for {message.FullName}, got {json.ValueKind}");
        }

        Span<bool> oneofSet = message.Oneofs.Count <= 64 ? stackalloc bool[message.Oneofs.Count] : new bool[message.Oneofs.Count];
        foreach (var property in json.EnumerateObject())
        {
            var field = message.FindFieldByName(property.Name)
                ?? throw new ProtobufEncodeException($"{message.FullName} has no field '{property.Name}'");
            var isNullValue = field.MessageType?.WellKnownType == ProtobufWellKnownType.Value;
            if (property.Value.ValueKind == JsonValueKind.Null && !isNullValue)
            {
                continue;
            }

            if (field.OneofIndex >= 0)
            {
                if (oneofSet[field.OneofIndex])
                {
                    throw new ProtobufEncodeException($"more than one field of oneof '{message.Oneofs[field.OneofIndex]}' is set").Within(field.Name);
                }

                oneofSet[field.OneofIndex] = true;
            }

            WriteField(property.Value, field, output, depth);
        }
    }

    private static void WriteField(JsonElement value, ProtobufFieldDescriptor field, ProtoBufferWriter output, int depth)
    {
        try
        {
            WriteFieldValue(value, field, output, depth);
        }
        catch (ProtobufEncodeException e) when (e.AddOuter(field.Name))
        {
            throw;
        }
    }

    /// <summary>Writes a field; errors are not yet located at the field (map values and unwrapped types have no name of their own).</summary>
    private static void WriteFieldValue(JsonElement value, ProtobufFieldDescriptor field, ProtoBufferWriter output, int depth)
    {
        if (field.IsMap)
        {
            WriteMap(value, field, output, depth);
        }
        else if (field.IsRepeated)
        {
            WriteRepeated(value, field, output, depth);
        }
        else if (field.Type == ProtobufFieldType.Message)
        {
            output.WriteTag(field.Number, WireType.LengthDelimited);
            var mark = output.BeginLengthDelimited();
            WriteMessage(value, field.MessageType!, output, depth + 1);
            output.EndLengthDelimited(mark);
        }
        else if (field.HasPresence || !ProtobufJsonScalars.IsDefault(value, field))
        {
            output.WriteTag(field.Number, field.WireType);
            ProtobufJsonScalars.Write(value, field, output);
        }
    }

    private static void WriteRepeated(JsonElement value, ProtobufFieldDescriptor field, ProtoBufferWriter output, int depth)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ProtobufEncodeException($"expected a JSON array, got {value.ValueKind}");
        }

        if (field.IsPacked)
        {
            if (value.GetArrayLength() == 0)
            {
                return;
            }

            output.WriteTag(field.Number, WireType.LengthDelimited);
            var mark = output.BeginLengthDelimited();
            ForEachItem(value, item => ProtobufJsonScalars.Write(item, field, output));
            output.EndLengthDelimited(mark);
            return;
        }

        ForEachItem(value, item =>
        {
            output.WriteTag(field.Number, field.WireType);
            if (field.Type != ProtobufFieldType.Message)
            {
                ProtobufJsonScalars.Write(item, field, output);
                return;
            }

            var mark = output.BeginLengthDelimited();
            WriteMessage(item, field.MessageType!, output, depth + 1);
            output.EndLengthDelimited(mark);
        });
    }

    private static void ForEachItem(JsonElement array, Action<JsonElement> write)
    {
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            try
            {
                write(item);
            }
            catch (ProtobufEncodeException e) when (e.AddOuter($"[{index}]"))
            {
                throw;
            }

            index++;
        }
    }

    private static void WriteMap(JsonElement value, ProtobufFieldDescriptor field, ProtoBufferWriter output, int depth)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ProtobufEncodeException($"expected a JSON object for a map, got {value.ValueKind}");
        }

        var keyField = field.MessageType!.FindFieldByNumber(1)!;
        var valueField = field.MessageType.FindFieldByNumber(2)!;
        foreach (var entry in value.EnumerateObject())
        {
            try
            {
                output.WriteTag(field.Number, WireType.LengthDelimited);
                var mark = output.BeginLengthDelimited();
                output.WriteTag(1, keyField.WireType);
                ProtobufJsonScalars.WriteMapKey(entry.Name, keyField, output);
                WriteFieldValue(entry.Value, valueField, output, depth + 1);
                output.EndLengthDelimited(mark);
            }
            catch (ProtobufEncodeException e) when (e.AddOuter($"[{JsonSerializer.Serialize(entry.Name)}]"))
            {
                throw;
            }
        }
    }

    /// <summary>google.protobuf.Value from any JSON value.</summary>
    private static void WriteValue(JsonElement json, ProtobufMessageDescriptor message, ProtoBufferWriter output, int depth)
    {
        var kind = json.ValueKind switch
        {
            JsonValueKind.Null => 1,
            JsonValueKind.Number => 2,
            JsonValueKind.String => 3,
            JsonValueKind.True or JsonValueKind.False => 4,
            JsonValueKind.Object => 5,
            JsonValueKind.Array => 6,
            _ => throw new ProtobufEncodeException($"{json.ValueKind} is not a JSON value"),
        };
        var field = message.FindFieldByNumber(kind)!;
        if (kind == 1)
        {
            output.WriteTag(1, WireType.Varint);
            output.WriteVarint(0);
            return;
        }

        // Oneof members always have presence, so defaults (0, "", false) are written too.
        WriteFieldValue(json, field, output, depth);
    }

    private static void WriteTime(JsonElement json, ProtobufWellKnownType type, ProtoBufferWriter output)
    {
        var text = json.ValueKind == JsonValueKind.String ? json.GetString()! : string.Empty;
        var parsed = type == ProtobufWellKnownType.Timestamp
            ? ProtoTimeJson.TryParseTimestamp(text, out var seconds, out var nanos)
            : ProtoTimeJson.TryParseDuration(text, out seconds, out nanos);
        if (!parsed)
        {
            var expected = type == ProtobufWellKnownType.Timestamp ? "an RFC 3339 timestamp string" : "a duration string such as \"1.5s\"";
            throw new ProtobufEncodeException($"expected {expected}, got {Describe(json)}");
        }

        if (seconds != 0)
        {
            output.WriteTag(1, WireType.Varint);
            output.WriteVarint((ulong)seconds);
        }

        if (nanos != 0)
        {
            output.WriteTag(2, WireType.Varint);
            output.WriteVarint((ulong)(long)nanos);
        }
    }

    internal static string Describe(JsonElement json)
    {
        var raw = json.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "...";
    }
}
