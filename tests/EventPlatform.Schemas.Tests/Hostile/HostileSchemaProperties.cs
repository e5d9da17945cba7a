using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Schemas.Tests.Hostile;

/// <summary>
/// Random compositions of nesting (chains of definitions wrapped in anyOf, allOf, oneOf, not, if,
/// items, properties; nested Protobuf messages; nested Avro types), up to far past every limit, on a
/// small stack: each parse ends as a schema or as <see cref="InvalidSchemaException"/>, each
/// validation and comparison finishes with an answer or a domain error.
/// </summary>
public class HostileSchemaProperties
{
    private static readonly string[] Instances = ["5", "\"x\"", "\"\"", "null", "[[[1]]]", "{\"a\":{\"a\":[\"x\"]}}", "[]", "{}"];

    [Property(MaxTest = 100)]
    public void Random_json_schema_chains_parse_validate_and_compare_or_are_refused(int[] wrappers, PositiveInt repeat)
    {
        var length = Math.Min(wrappers.Length * (1 + (repeat.Get % 40)), 2_000);
        var schema = JsonChain(wrappers, length);

        SmallStack.Run(() =>
        {
            ParsedJsonSchema parsed;
            try
            {
                parsed = JsonSchemaFormat.Instance.ParseJson(schema, []);
            }
            catch (InvalidSchemaException)
            {
                return;
            }

            foreach (var instance in Instances)
            {
                using var document = JsonDocument.Parse(instance);
                var result = parsed.Validator.Validate(document.RootElement);
                Assert.True(result.IsValid || result.InvalidFields.Count + result.MissingFields.Count > 0);
            }

            try
            {
                Assert.Empty(parsed.ReadIncompatibilities(JsonSchemaFormat.Instance.ParseJson(schema, [])));
            }
            catch (InvalidSchemaException e)
            {
                Assert.Contains("Invalid schema", e.Message, StringComparison.Ordinal);
            }
        });
    }

    [Property(MaxTest = 100)]
    public void Random_proto_nesting_parses_or_is_refused(PositiveInt depth, bool asDescriptor)
    {
        var levels = depth.Get % 400;
        var schema = asDescriptor ? HostileSchemas.ProtoDescriptorNested(levels) : HostileSchemas.ProtoNested(levels);

        SmallStack.Run(() =>
        {
            try
            {
                var parsed = ProtobufFormat.Instance.Parse(schema, []);
                Assert.True(levels < SchemaLimits.MaxNestingDepth);
                Assert.Empty(parsed.ReadIncompatibilities(ProtobufFormat.Instance.Parse(schema, [])));
            }
            catch (InvalidSchemaException)
            {
                Assert.True(levels >= SchemaLimits.MaxNestingDepth - 1);
            }
        });
    }

    [Property(MaxTest = 100)]
    public void Random_avro_nesting_parses_or_is_refused(int[] kinds)
    {
        var schema = AvroNest(kinds.Take(300).ToArray());

        SmallStack.Run(() =>
        {
            try
            {
                var parsed = (ParsedAvroSchema)AvroFormat.Instance.Parse(schema, []);
                Assert.Empty(parsed.ReadIncompatibilities(AvroFormat.Instance.Parse(schema, [])));
                _ = new AvroJsonEncoder(parsed.Schema);
                _ = new AvroBinaryDecoder(parsed.Schema);
            }
            catch (InvalidSchemaException)
            {
            }
        });
    }

    // Definitions d0..dN, each wrapping a $ref to the next in a keyword picked by the random numbers.
    private static string JsonChain(int[] wrappers, int length)
    {
        var text = new StringBuilder("""{"$ref":"#/definitions/d0","definitions":{""");
        for (var i = 0; i < length; i++)
        {
            var next = $"{{\"$ref\":\"#/definitions/d{i + 1}\"}}";
            var body = (wrappers.Length == 0 ? 0 : (uint)wrappers[i % wrappers.Length] % 9) switch
            {
                0 => next[1..^1],
                1 => $"\"anyOf\":[{next},{{\"type\":\"string\",\"minLength\":1}}]",
                2 => $"\"anyOf\":[{next},{{\"allOf\":[{next}]}}]",
                3 => $"\"oneOf\":[{next},{{\"type\":\"number\"}}]",
                4 => $"\"allOf\":[{next},{{\"not\":{{\"type\":\"null\"}}}}]",
                5 => $"\"not\":{{\"not\":{next}}}",
                6 => $"\"if\":{next},\"then\":{next},\"else\":{{\"type\":\"array\"}}",
                7 => $"\"items\":{next}",
                _ => $"\"properties\":{{\"a\":{next}}},\"patternProperties\":{{\"^b\":{next}}}",
            };
            text.Append(i > 0 ? "," : "").Append($"\"d{i}\":{{{body}}}");
        }

        text.Append($",\"d{length}\":{{\"type\":[\"string\",\"array\",\"object\"]}}}}}}");
        return text.ToString();
    }

    private static string AvroNest(int[] kinds)
    {
        var open = new StringBuilder();
        var close = new StringBuilder();
        for (var i = 0; i < kinds.Length; i++)
        {
            switch ((uint)kinds[i] % 4)
            {
                case 0:
                    open.Append("""{"type":"array","items":""");
                    close.Insert(0, "}");
                    break;
                case 1:
                    open.Append("""{"type":"map","values":""");
                    close.Insert(0, "}");
                    break;
                case 2:
                    open.Append($$"""{"type":"record","name":"R{{i}}","fields":[{"name":"f","type":""");
                    close.Insert(0, "}]}");
                    break;
                default:
                    open.Append("""["null",""");
                    close.Insert(0, "]");
                    break;
            }
        }

        return open + "\"string\"" + close;
    }
}
