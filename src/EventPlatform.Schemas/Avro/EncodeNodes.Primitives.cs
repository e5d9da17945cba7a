using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace EventPlatform.Schemas.Avro;

/// <summary>Encodes JSON values of one schema node. Nodes are immutable and shared between threads.</summary>
internal abstract class EncodeNode
{
    /// <summary>The schema type, for messages.</summary>
    public abstract string Describe { get; }

    /// <summary>Among union branches that take a JSON kind, lower is chosen first; -1: never takes it.</summary>
    public abstract int Preference(JsonValueKind kind, AvroJsonEncoderOptions options);

    /// <summary>A cheap check, for choosing a union branch, that the value fits this node.</summary>
    public virtual bool Accepts(JsonElement value, EncodeContext context) => true;

    public abstract void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context);

    protected void Expected(EncodeContext context, JsonElement value, string? what = null) =>
        context.Invalid($"expected {what ?? Describe}, got {KindOf(value)}");

    protected static string KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>A JSON string's UTF-8 bytes as they appear in the document (still escaped).</summary>
    protected static ReadOnlySpan<byte> RawString(JsonElement value) => JsonMarshal.GetRawUtf8Value(value)[1..^1];

    /// <summary>Decodes base64 (its UTF-8 text) into <paramref name="destination"/>; false when not base64.</summary>
    protected static bool TryBase64(JsonElement value, Span<byte> destination, out int written)
    {
        var raw = RawString(value);
        if (raw.Contains((byte)'\\'))
        {
            return Convert.TryFromBase64String(value.GetString()!, destination, out written);
        }

        return Base64.DecodeFromUtf8(raw, destination, out _, out written) == OperationStatus.Done;
    }

    protected static int MaxBase64Length(JsonElement value) => Base64.GetMaxDecodedFromUtf8Length(RawString(value).Length);
}

internal sealed class NullNode : EncodeNode
{
    public static readonly NullNode Instance = new();

    public override string Describe => "null";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.Null ? 0 : -1;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.Null)
        {
            Expected(context, value);
        }
    }
}

internal sealed class BooleanNode : EncodeNode
{
    public static readonly BooleanNode Instance = new();

    public override string Describe => "a boolean";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) =>
        kind is JsonValueKind.True or JsonValueKind.False ? 0 : -1;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            AvroBinaryWriter.WriteBoolean(output, value.ValueKind == JsonValueKind.True);
        }
        else
        {
            Expected(context, value);
        }
    }
}

internal sealed class IntNode : EncodeNode
{
    public static readonly IntNode Instance = new();

    public override string Describe => "an int (32-bit integer)";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.Number ? 0 : -1;

    public override bool Accepts(JsonElement value, EncodeContext context) => value.TryGetInt32(out _);

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            AvroBinaryWriter.WriteInt(output, number);
        }
        else
        {
            Expected(context, value);
        }
    }
}

internal sealed class FloatingNode(bool isDouble) : EncodeNode
{
    public override string Describe => isDouble ? "a double" : "a float";

    // Doubles before floats: an integral number too big for int and long keeps more precision.
    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind switch
    {
        JsonValueKind.Number => isDouble ? 2 : 3,
        JsonValueKind.String => 5,
        _ => -1,
    };

    public override bool Accepts(JsonElement value, EncodeContext context) => TryGet(value, out _);

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (!TryGet(value, out var number))
        {
            Expected(context, value, Describe + " (a number, or \"NaN\", \"Infinity\", \"-Infinity\")");
        }
        else if (isDouble)
        {
            AvroBinaryWriter.WriteDouble(output, number);
        }
        else
        {
            AvroBinaryWriter.WriteFloat(output, (float)number);
        }
    }

    private bool TryGet(JsonElement value, out double number)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            // A finite JSON number beyond the type's range is an error, not an infinity.
            return value.TryGetDouble(out number) && (isDouble || float.IsFinite((float)number));
        }

        number = value.ValueKind != JsonValueKind.String ? 0
            : value.ValueEquals("NaN"u8) ? double.NaN
            : value.ValueEquals("Infinity"u8) ? double.PositiveInfinity
            : value.ValueEquals("-Infinity"u8) ? double.NegativeInfinity
            : 0;
        return !double.IsFinite(number);
    }
}

internal sealed class StringNode : EncodeNode
{
    public static readonly StringNode Instance = new();

    public override string Describe => "a string";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind switch
    {
        JsonValueKind.String => 0,
        JsonValueKind.Array or JsonValueKind.Object when options.JsonTextForStrings => 2,
        _ => -1,
    };

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                WriteString(value, output);
                return;
            case JsonValueKind.Object or JsonValueKind.Array when context.Options.JsonTextForStrings && !context.DefaultMode:
                AvroBinaryWriter.WriteString(output, context.CompactJsonText(value));
                return;
            default:
                Expected(context, value);
                return;
        }
    }

    /// <summary>Writes a JSON string as an Avro string, copying its UTF-8 bytes unless it has escapes.</summary>
    public static void WriteString(JsonElement value, IBufferWriter<byte> output)
    {
        var raw = RawString(value);
        if (raw.Contains((byte)'\\'))
        {
            AvroBinaryWriter.WriteString(output, value.GetString().AsSpan());
        }
        else
        {
            AvroBinaryWriter.WriteString(output, raw);
        }
    }
}

internal sealed class BytesNode : EncodeNode
{
    public static readonly BytesNode Instance = new();

    public override string Describe => "bytes (a base64 string)";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.String ? 3 : -1;

    public override bool Accepts(JsonElement value, EncodeContext context) =>
        context.DefaultMode || Base64.IsValid(RawString(value));

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            Expected(context, value);
        }
        else if (context.DefaultMode)
        {
            AvroBinaryWriter.WriteBytes(output, CodePoints(value));
        }
        else
        {
            // Decode after room for the longest length prefix, then slide the bytes to just after the real one.
            const int room = AvroBinaryWriter.MaxVarLongLength;
            var span = output.GetSpan(room + MaxBase64Length(value));
            if (!TryBase64(value, span[room..], out var length))
            {
                Expected(context, value, "bytes as a base64 string");
                return;
            }

            var prefix = AvroBinaryWriter.VarLongLength(length);
            span.Slice(room, length).CopyTo(span[prefix..]);
            AvroBinaryWriter.WriteVarLong(span, length);
            output.Advance(prefix + length);
        }
    }

    /// <summary>A default's bytes: the specification writes them as a string of code points 0-255.</summary>
    public static byte[] CodePoints(JsonElement value)
    {
        var text = value.GetString()!;
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            bytes[i] = (byte)text[i];
        }

        return bytes;
    }
}
