using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Reads one value written with the writer's schema and writes it as the reader's JSON, or skips
/// it when the output is null (a writer-only field). Nodes are immutable once planned.
/// </summary>
internal abstract class DecodeNode
{
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public abstract void Read(ref AvroReader input, Utf8JsonWriter? output);

    protected static ReadOnlySpan<byte> ValidUtf8(ref AvroReader input, ReadOnlySpan<byte> text) =>
        Utf8.IsValid(text) ? text : throw input.Malformed("a string that is not valid UTF-8");
}

/// <summary>What a primitive is written as and read as (the specification's promotions).</summary>
internal enum Conversion
{
    Null,
    Boolean,
    IntAsInt,
    IntAsFloat,
    LongAsLong,
    LongAsFloat,
    LongAsDouble,
    FloatAsFloat,
    FloatAsDouble,
    DoubleAsDouble,
    StringAsString,
    BytesAsBytes,
    StringAsBytes,
    BytesAsString,
}

internal sealed class PrimitiveDecoder(Conversion conversion) : DecodeNode
{
    private static readonly PrimitiveDecoder[] Instances = Enum.GetValues<Conversion>().Select(c => new PrimitiveDecoder(c)).ToArray();

    public static PrimitiveDecoder For(Conversion conversion) => Instances[(int)conversion];

    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        switch (conversion)
        {
            case Conversion.Null:
                output?.WriteNullValue();
                break;
            case Conversion.Boolean:
                var flag = input.ReadBoolean();
                output?.WriteBooleanValue(flag);
                break;
            case Conversion.IntAsInt:
                // int read as int, long or double: the same digits.
                var i = input.ReadInt();
                output?.WriteNumberValue(i);
                break;
            case Conversion.IntAsFloat:
                WriteFloat(output, input.ReadInt());
                break;
            case Conversion.LongAsLong:
                var l = input.ReadLong();
                output?.WriteNumberValue(l);
                break;
            case Conversion.LongAsFloat:
                WriteFloat(output, input.ReadLong());
                break;
            case Conversion.LongAsDouble:
                WriteDouble(output, input.ReadLong());
                break;
            case Conversion.FloatAsFloat:
                WriteFloat(output, input.ReadFloat());
                break;
            case Conversion.FloatAsDouble:
                WriteDouble(output, input.ReadFloat());
                break;
            case Conversion.DoubleAsDouble:
                WriteDouble(output, input.ReadDouble());
                break;
            case Conversion.StringAsString or Conversion.BytesAsString:
                var text = input.ReadBytes();
                output?.WriteStringValue(ValidUtf8(ref input, text));
                break;
            default:
                var bytes = input.ReadBytes();
                output?.WriteBase64StringValue(bytes);
                break;
        }
    }

    private static void WriteFloat(Utf8JsonWriter? output, float value)
    {
        if (output is null)
        {
        }
        else if (float.IsFinite(value))
        {
            output.WriteNumberValue(value);
        }
        else
        {
            WriteNonFinite(output, value);
        }
    }

    private static void WriteDouble(Utf8JsonWriter? output, double value)
    {
        if (output is null)
        {
        }
        else if (double.IsFinite(value))
        {
            output.WriteNumberValue(value);
        }
        else
        {
            WriteNonFinite(output, value);
        }
    }

    // JSON has no NaN or infinities: the strings Avro's own JSON tools use.
    private static void WriteNonFinite(Utf8JsonWriter output, double value) =>
        output.WriteStringValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
}

internal sealed class EnumDecoder(int writerSymbols, JsonEncodedText?[] readerSymbols, string[] writerNames) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        var index = input.ReadInt();
        if ((uint)index >= (uint)writerSymbols)
        {
            throw input.Malformed($"enum index {index} outside the writer's {writerSymbols} symbols");
        }

        if (output is null)
        {
            return;
        }

        var symbol = readerSymbols[index] ?? throw new AvroDecodeException(
            $"The writer's enum symbol '{writerNames[index]}' is not a symbol of the reader's enum, which has no default.");
        output.WriteStringValue(symbol);
    }
}

internal sealed class FixedDecoder(int size) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        var bytes = input.Take(size, "a fixed value");
        output?.WriteBase64StringValue(bytes);
    }
}

internal sealed class ArrayDecoder(DecodeNode items, bool zeroWidthItems) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        input.Enter();
        output?.WriteStartArray();
        while (input.ReadBlockCount(zeroWidthItems, skipBlock: output is null, out var skipped) is var count and not 0)
        {
            for (var i = 0L; i < count && !skipped; i++)
            {
                items.Read(ref input, output);
            }
        }

        output?.WriteEndArray();
        input.Leave();
    }
}

internal sealed class MapDecoder(DecodeNode values) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        input.Enter();
        output?.WriteStartObject();
        while (input.ReadBlockCount(zeroWidthItems: false, skipBlock: output is null, out var skipped) is var count and not 0)
        {
            for (var i = 0L; i < count && !skipped; i++)
            {
                var key = input.ReadBytes();
                output?.WritePropertyName(ValidUtf8(ref input, key));
                values.Read(ref input, output);
            }
        }

        output?.WriteEndObject();
        input.Leave();
    }
}

internal sealed class UnionDecoder(DecodeNode[] branches) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        var index = input.ReadLong();
        if ((ulong)index >= (ulong)branches.Length)
        {
            throw input.Malformed($"union branch {index} outside the writer's {branches.Length} branches");
        }

        branches[index].Read(ref input, output);
    }
}

/// <summary>A writer type the reader cannot read: an error only when such data actually comes.</summary>
internal sealed class ErrorDecoder(string message) : DecodeNode
{
    public override void Read(ref AvroReader input, Utf8JsonWriter? output) =>
        throw new AvroDecodeException("Cannot resolve the data with the reader schema: " + message + ".");
}

/// <summary>A record: the writer's fields in order (read or skipped), then the reader-only fields' defaults.</summary>
internal sealed class RecordDecoder : DecodeNode
{
    public (JsonEncodedText? Name, DecodeNode Node)[] Steps { get; set; } = [];

    public (JsonEncodedText Name, byte[] Json)[] Defaults { get; set; } = [];

    /// <summary>Why the reader cannot read this record at all (a reader field with no default), if so.</summary>
    public string? Error { get; set; }

    public override void Read(ref AvroReader input, Utf8JsonWriter? output)
    {
        if (Error is not null)
        {
            throw new AvroDecodeException("Cannot resolve the data with the reader schema: " + Error + ".");
        }

        input.Enter();
        output?.WriteStartObject();
        foreach (var (name, node) in Steps)
        {
            if (output is not null && name is { } readerName)
            {
                output.WritePropertyName(readerName);
                node.Read(ref input, output);
            }
            else
            {
                node.Read(ref input, null);
            }
        }

        if (output is not null)
        {
            foreach (var (name, json) in Defaults)
            {
                output.WritePropertyName(name);
                output.WriteRawValue(json, skipInputValidation: true);
            }

            output.WriteEndObject();
        }

        input.Leave();
    }
}
