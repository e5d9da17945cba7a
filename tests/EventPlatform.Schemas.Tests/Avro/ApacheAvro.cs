using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Json;
using Avro.Generic;
using Avro.IO;
using ApacheSchema = Avro.Schema;

namespace EventPlatform.Schemas.Tests.Avro;

/// <summary>The reference implementation (Apache.Avro's generic reader and writer) as the tests' oracle.</summary>
internal static class ApacheAvro
{
    public static object? Read(string writerSchema, string readerSchema, byte[] bytes)
    {
        var reader = new GenericDatumReader<object>(ApacheSchema.Parse(writerSchema), ApacheSchema.Parse(readerSchema));
        using var stream = new MemoryStream(bytes);
        var value = reader.Read(null!, new BinaryDecoder(stream));
        Assert.Equal(bytes.Length, stream.Position);
        return value;
    }

    public static byte[] Write(string schema, object? value)
    {
        var writer = new GenericDatumWriter<object>(ApacheSchema.Parse(schema));
        using var stream = new MemoryStream();
        writer.Write(value!, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    /// <summary>A generic datum as the same plain JSON our decoder writes.</summary>
    public static string ToJson(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(value, writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(object? value, Utf8JsonWriter writer)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case float f:
                writer.WriteNumberValue(f);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case GenericEnum e:
                writer.WriteStringValue(e.Value);
                break;
            case GenericFixed f:
                writer.WriteBase64StringValue(f.Value);
                break;
            case GenericRecord record:
                writer.WriteStartObject();
                foreach (var field in record.Schema.Fields)
                {
                    writer.WritePropertyName(field.Name);
                    Write(record.GetValue(field.Pos), writer);
                }

                writer.WriteEndObject();
                break;
            case IDictionary<string, object> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    Write(item, writer);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(item, writer);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"Unexpected generic datum {value.GetType()}.", nameof(value));
        }
    }
}
