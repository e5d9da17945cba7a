using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// The text used for Confluent's <c>normalize=true</c>. It follows Avro's Parsing Canonical Form
/// (full names, no namespace, no doc, no custom properties, no field order, primitives as bare
/// strings, a named type spelled out once and then named, keys in one fixed order) but keeps what
/// changes how data is resolved or read: field defaults, aliases (sorted, as full names), enum
/// defaults and logical types (with decimal precision and scale). Two schemas with the same
/// normal form therefore read and write the same data the same way. Named types that come from
/// references are named, never spelled out, as in the text that was sent.
/// </summary>
internal static class AvroNormalForm
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Of(AvroSchema schema, IReadOnlySet<string> referencedNames)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            Write(schema, writer, new HashSet<string>(referencedNames, StringComparer.Ordinal));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(AvroSchema schema, Utf8JsonWriter writer, HashSet<string> written)
    {
        switch (schema)
        {
            case AvroNamedSchema named when !written.Add(named.FullName):
                writer.WriteStringValue(named.FullName);
                return;
            case AvroUnionSchema union:
                writer.WriteStartArray();
                foreach (var branch in union.Branches)
                {
                    Write(branch, writer, written);
                }

                writer.WriteEndArray();
                return;
            case AvroPrimitiveSchema { LogicalType: null }:
                writer.WriteStringValue(schema.TypeName);
                return;
        }

        writer.WriteStartObject();
        if (schema is AvroNamedSchema n)
        {
            writer.WriteString("name", n.FullName);
        }

        writer.WriteString("type", schema.TypeName);
        if (schema is AvroNamedSchema { Aliases.Count: > 0 } withAliases)
        {
            WriteSorted(writer, "aliases", withAliases.Aliases);
        }

        switch (schema)
        {
            case AvroRecordSchema record:
                writer.WriteStartArray("fields");
                foreach (var field in record.Fields)
                {
                    WriteField(field, writer, written);
                }

                writer.WriteEndArray();
                break;
            case AvroEnumSchema e:
                writer.WriteStartArray("symbols");
                foreach (var symbol in e.Symbols)
                {
                    writer.WriteStringValue(symbol);
                }

                writer.WriteEndArray();
                if (e.Default is not null)
                {
                    writer.WriteString("default", e.Default);
                }

                break;
            case AvroArraySchema a:
                writer.WritePropertyName("items");
                Write(a.Items, writer, written);
                break;
            case AvroMapSchema m:
                writer.WritePropertyName("values");
                Write(m.Values, writer, written);
                break;
            case AvroFixedSchema f:
                writer.WriteNumber("size", f.Size);
                break;
        }

        WriteLogicalType(schema.LogicalType, writer);
        writer.WriteEndObject();
    }

    private static void WriteField(AvroField field, Utf8JsonWriter writer, HashSet<string> written)
    {
        writer.WriteStartObject();
        writer.WriteString("name", field.Name);
        if (field.Aliases.Count > 0)
        {
            WriteSorted(writer, "aliases", field.Aliases);
        }

        writer.WritePropertyName("type");
        Write(field.Type, writer, written);
        if (field.Default is { } value)
        {
            writer.WritePropertyName("default");
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    private static void WriteLogicalType(AvroLogicalType? logical, Utf8JsonWriter writer)
    {
        if (logical is null)
        {
            return;
        }

        writer.WriteString("logicalType", logical.Name);
        if (logical.Precision is { } precision)
        {
            writer.WriteNumber("precision", precision);
        }

        if (logical.Scale is { } scale)
        {
            writer.WriteNumber("scale", scale);
        }
    }

    private static void WriteSorted(Utf8JsonWriter writer, string property, IReadOnlyList<string> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        writer.WriteStartArray(property);
        foreach (var value in sorted)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
