using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

internal sealed class EnumNode(AvroEnumSchema schema) : EncodeNode
{
    private readonly byte[][] _symbols = schema.Symbols.Select(Encoding.UTF8.GetBytes).ToArray();

    public override string Describe => $"a symbol of enum '{schema.FullName}'";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.String ? 1 : -1;

    public override bool Accepts(JsonElement value, EncodeContext context) => IndexOf(value) >= 0;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        var index = value.ValueKind == JsonValueKind.String ? IndexOf(value) : -1;
        if (index >= 0)
        {
            AvroBinaryWriter.WriteEnum(output, index);
        }
        else if (value.ValueKind == JsonValueKind.String)
        {
            context.Invalid($"'{value.GetString()}' is not a symbol of enum '{schema.FullName}' ({string.Join(", ", schema.Symbols)})");
        }
        else
        {
            Expected(context, value);
        }
    }

    private int IndexOf(JsonElement value)
    {
        for (var i = 0; i < _symbols.Length; i++)
        {
            if (value.ValueEquals(_symbols[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

internal sealed class FixedNode(AvroFixedSchema schema) : EncodeNode
{
    public override string Describe => $"fixed '{schema.FullName}' ({schema.Size} bytes as base64)";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.String ? 4 : -1;

    public override bool Accepts(JsonElement value, EncodeContext context) =>
        context.DefaultMode || (System.Buffers.Text.Base64.IsValid(RawString(value), out var length) && length == schema.Size);

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            Expected(context, value);
        }
        else if (context.DefaultMode)
        {
            AvroBinaryWriter.WriteFixed(output, BytesNode.CodePoints(value));
        }
        else
        {
            var span = output.GetSpan(Math.Max(schema.Size, MaxBase64Length(value)));
            if (TryBase64(value, span, out var length) && length == schema.Size)
            {
                output.Advance(length);
            }
            else
            {
                Expected(context, value);
            }
        }
    }
}

internal sealed class RecordNode(AvroRecordSchema schema) : EncodeNode
{
    private readonly byte[][] _names = schema.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();
    private readonly byte[]?[] _defaultBytes = new byte[]?[schema.Fields.Count];
    private EncodeNode[] _fields = [];

    public override string Describe => $"an object (record '{schema.FullName}')";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.Object ? 0 : -1;

    // Set once after construction: a recursive record's fields refer back to this node.
    public void SetFields(EncodeNode[] fields) => _fields = fields;

    public void EncodeDefaults(AvroJsonEncoderOptions options)
    {
        for (var i = 0; i < _fields.Length; i++)
        {
            if (schema.Fields[i].Default is { } value)
            {
                _defaultBytes[i] = EncodePlan.EncodeDefault(_fields[i], value, options);
            }
        }
    }

    /// <summary>For a union: the object has every field that has no default (and nothing else, when unknown fields are rejected).</summary>
    public override bool Accepts(JsonElement value, EncodeContext context)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            if (!schema.Fields[i].HasDefault && !value.TryGetProperty(_names[i], out _))
            {
                return false;
            }
        }

        return !context.Options.RejectUnknownFields || !HasUnknownField(value);
    }

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Expected(context, value);
            return;
        }

        for (var i = 0; i < _fields.Length; i++)
        {
            var field = schema.Fields[i];
            if (value.TryGetProperty(_names[i], out var given))
            {
                EncodeField(field.Name, _fields[i], given, output, context);
            }
            else if (field.Default is not { } defaultValue)
            {
                context.Missing(field.Name);
            }
            else if (context.DefaultMode)
            {
                EncodeField(field.Name, _fields[i], defaultValue, output, context);
            }
            else if (_defaultBytes[i] is { } bytes)
            {
                AvroBinaryWriter.WriteFixed(output, bytes);
            }
            else if (context.Enter(field.Name, -1))
            {
                context.Invalid("the field's default cannot be encoded (it nests without end)");
                context.Leave();
            }
        }

        if (context.Options.RejectUnknownFields && !context.DefaultMode && HasUnknownField(value))
        {
            ReportUnknownFields(value, context);
        }
    }

    private static void EncodeField(string name, EncodeNode node, JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (context.Enter(name, -1))
        {
            node.Encode(value, output, context);
            context.Leave();
        }
    }

    private bool HasUnknownField(JsonElement value)
    {
        foreach (var property in value.EnumerateObject())
        {
            if (!IsField(property))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsField(JsonProperty property)
    {
        foreach (var name in _names)
        {
            if (property.NameEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    private void ReportUnknownFields(JsonElement value, EncodeContext context)
    {
        foreach (var property in value.EnumerateObject())
        {
            if (!IsField(property) && context.Enter(property.Name, -1))
            {
                context.Invalid($"record '{schema.FullName}' has no such field");
                context.Leave();
            }
        }
    }
}
