using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Tests.Avro;

/// <summary>A random plain-JSON value of a schema, from a seed (FsCheck supplies the seeds).</summary>
internal static class RandomDatum
{
    private const int MaxDepth = 4;

    private static readonly string[] Texts = ["", "a", "héllo wörld", "quote \" backslash \\ slash /", "line\nbreak\ttab", "emoji 😀 and 中文", "\u0001control", "<html>&amp;"];

    public static string Json(AvroSchema schema, int seed)
    {
        var random = new Random(seed);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(schema, random, writer, 0);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(AvroSchema schema, Random random, Utf8JsonWriter writer, int depth)
    {
        switch (schema)
        {
            case AvroUnionSchema union:
                // Deep down, take a branch that ends the recursion.
                var branches = depth >= MaxDepth && union.Branches.Any(b => b.TypeName == "null")
                    ? union.Branches.Where(b => b.TypeName == "null").ToList()
                    : union.Branches;
                Write(branches[random.Next(branches.Count)], random, writer, depth);
                return;
            case AvroRecordSchema record:
                writer.WriteStartObject();
                foreach (var field in record.Fields)
                {
                    writer.WritePropertyName(field.Name);
                    Write(field.Type, random, writer, depth + 1);
                }

                writer.WriteEndObject();
                return;
            case AvroEnumSchema e:
                writer.WriteStringValue(e.Symbols[random.Next(e.Symbols.Count)]);
                return;
            case AvroFixedSchema f:
                writer.WriteBase64StringValue(Bytes(random, f.Size));
                return;
            case AvroArraySchema a:
                writer.WriteStartArray();
                for (var i = depth >= MaxDepth ? 0 : random.Next(4); i > 0; i--)
                {
                    Write(a.Items, random, writer, depth + 1);
                }

                writer.WriteEndArray();
                return;
            case AvroMapSchema m:
                writer.WriteStartObject();
                for (var i = depth >= MaxDepth ? 0 : random.Next(4); i > 0; i--)
                {
                    writer.WritePropertyName($"{Texts[random.Next(Texts.Length)]}#{i}");
                    Write(m.Values, random, writer, depth + 1);
                }

                writer.WriteEndObject();
                return;
            default:
                WritePrimitive(schema.TypeName, random, writer);
                return;
        }
    }

    private static void WritePrimitive(string type, Random random, Utf8JsonWriter writer)
    {
        switch (type)
        {
            case "null":
                writer.WriteNullValue();
                break;
            case "boolean":
                writer.WriteBooleanValue(random.Next(2) == 1);
                break;
            case "int":
                writer.WriteNumberValue(random.Next(4) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => random.Next(-100, 100), _ => random.Next() });
                break;
            case "long":
                writer.WriteNumberValue(random.Next(4) switch { 0 => long.MinValue, 1 => long.MaxValue, 2 => random.Next(-100, 100), _ => random.NextInt64() });
                break;
            case "float":
                writer.WriteNumberValue(random.Next(3) == 0 ? random.Next(-5, 5) : (float)(random.NextDouble() * Math.Pow(10, random.Next(-20, 20))));
                break;
            case "double":
                writer.WriteNumberValue(random.Next(3) == 0 ? -random.NextDouble() : random.NextDouble() * Math.Pow(10, random.Next(-200, 200)));
                break;
            case "bytes":
                writer.WriteBase64StringValue(Bytes(random, random.Next(6)));
                break;
            default:
                writer.WriteStringValue(Texts[random.Next(Texts.Length)]);
                break;
        }
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
