using System.Buffers;
using System.Text.Json;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;

namespace EventPlatform.Schemas.Tests.Hostile;

/// <summary>
/// Every parser, validator, compatibility check and codec on hostile input, on a 256 KiB stack:
/// each must end with its domain error (or a correct answer), never overflow the stack.
/// </summary>
public class SmallStackTests
{
    private const int ProtobufCodecStack = SmallStack.StackBytes;

    private static readonly JsonDocumentOptions DeepJson = new() { MaxDepth = 1_000_000 };

    [Fact]
    public void A_json_schema_with_a_chain_of_100000_refs_is_refused_as_too_deep()
    {
        var schema = HostileSchemas.JsonRefChain(100_000);

        var error = SmallStack.Throws<InvalidSchemaException>(() => JsonSchemaFormat.Instance.Parse(schema, []));

        Assert.Contains($"nesting exceeds {SchemaLimits.MaxNestingDepth} levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_schema_ref_chain_within_the_limit_parses_validates_and_compares()
    {
        var schema = HostileSchemas.JsonRefChain(SchemaLimits.MaxNestingDepth - 10);

        SmallStack.Run(() =>
        {
            var parsed = JsonSchemaFormat.Instance.ParseJson(schema, []);
            Assert.True(Validate(parsed, "\"text\"").IsValid);
            Assert.False(Validate(parsed, "5").IsValid);
            Assert.Empty(parsed.ReadIncompatibilities(JsonSchemaFormat.Instance.ParseJson(schema, [])));
        });
    }

    [Fact]
    public void A_long_property_chain_compares_with_a_depth_error_and_validates_deep_instances_within_budget()
    {
        var schema = HostileSchemas.JsonPropertyChain(20_000);
        var parsed = SmallStack.Run(() => JsonSchemaFormat.Instance.ParseJson(schema, []));

        // The explicit limit, or on this small stack the stack backstop below it: either way a domain error.
        var error = SmallStack.Throws<InvalidSchemaException>(() => parsed.ReadIncompatibilities(JsonSchemaFormat.Instance.ParseJson(schema, [])));
        Assert.Contains("schema nesting", error.Message, StringComparison.Ordinal);

        // An instance 10,000 objects deep (parsed without the usual depth limit) follows the chain.
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000);
        var result = SmallStack.Run(() => ValidateDeep(parsed, deep));
        Assert.False(result.IsValid);
        Assert.True(result.WorkBudgetExceeded);
    }

    [Theory]
    [InlineData("anyOf")]
    [InlineData("oneOf")]
    [InlineData("allOf")]
    public void Combinations_fanning_out_40_levels_validate_within_the_budget(string keyword)
    {
        var parsed = SmallStack.Run(() => JsonSchemaFormat.Instance.ParseJson(HostileSchemas.JsonFanOut(40, keyword), []));

        var failing = SmallStack.Run(() => Validate(parsed, "5"));
        var empty = SmallStack.Run(() => Validate(parsed, "\"\""));

        Assert.False(failing.IsValid);
        Assert.False(empty.IsValid);
        if (keyword != "oneOf")
        {
            // oneOf's two branches both match, so no string is valid; for the others a non-empty one is.
            Assert.True(SmallStack.Run(() => Validate(parsed, "\"x\"")).IsValid);
        }
    }

    [Fact]
    public void Comparing_a_fanned_out_schema_with_itself_ends_with_a_domain_error_or_an_answer()
    {
        var schema = HostileSchemas.JsonFanOut(40);

        SmallStack.Run(() =>
        {
            var parsed = JsonSchemaFormat.Instance.ParseJson(schema, []);
            try
            {
                parsed.ReadIncompatibilities(JsonSchemaFormat.Instance.ParseJson(schema, []));
            }
            catch (InvalidSchemaException e)
            {
                Assert.Contains("too complex to compare", e.Message, StringComparison.Ordinal);
            }
        });
    }

    [Fact]
    public void Deeply_nested_instances_of_a_recursive_schema_exceed_the_budget_instead_of_the_stack()
    {
        var parsed = JsonSchemaFormat.Instance.ParseJson("""{"type":"array","items":{"$ref":"#"}}""", []);

        var result = SmallStack.Run(() => ValidateDeep(parsed, HostileSchemas.DeepArrays(10_000)));

        Assert.False(result.IsValid);
        Assert.True(result.WorkBudgetExceeded);
        Assert.Contains("work budget", result.InvalidFields.Single().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_schema_text_nested_beyond_the_json_depth_limit_is_invalid()
    {
        var schema = string.Concat(Enumerable.Repeat("{\"items\":", 10_000)) + "{}" + new string('}', 10_000);

        SmallStack.Throws<InvalidSchemaException>(() => JsonSchemaFormat.Instance.Parse(schema, []));
    }

    [Fact]
    public void A_slow_pattern_ends_validation_as_over_budget()
    {
        var parsed = JsonSchemaFormat.Instance.ParseJson("""{"type":"array","items":{"type":"string","pattern":"^(a+)+$"}}""", []);
        var evil = "\"" + new string('a', 40) + "!\"";
        var instance = "[" + string.Join(",", Enumerable.Repeat(evil, 20)) + "]";

        var result = SmallStack.Run(() => Validate(parsed, instance));

        Assert.False(result.IsValid);
        Assert.True(result.WorkBudgetExceeded);
    }

    [Fact]
    public void Many_anchor_and_pointer_refs_into_a_large_document_resolve_in_one_walk_each()
    {
        var definitions = string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"d{i}\":{{\"$anchor\":\"a{i}\",\"type\":\"string\"}}"));
        var uses = string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"p{i}\":{{\"anyOf\":[{{\"$ref\":\"#a{i}\"}},{{\"$ref\":\"#/$defs/d{i}\"}}]}}"));
        var schema = $"{{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$defs\":{{{definitions}}},\"properties\":{{{uses}}}}}";

        var parsed = SmallStack.Run(() => JsonSchemaFormat.Instance.ParseJson(schema, []));

        Assert.False(Validate(parsed, "{\"p19999\":5}").IsValid);
        Assert.True(Validate(parsed, "{\"p19999\":\"x\"}").IsValid);
    }

    [Fact]
    public void A_schema_with_thousands_of_distinct_patterns_parses()
    {
        var properties = string.Join(",", Enumerable.Range(0, 5_000).Select(i => $"\"p{i}\":{{\"type\":\"string\",\"pattern\":\"^(a|b)*{i}[0-9]+$\"}}"));
        var schema = "{\"type\":\"object\",\"properties\":{" + properties + "}}";

        var parsed = SmallStack.Run(() => JsonSchemaFormat.Instance.ParseJson(schema, []));

        Assert.True(Validate(parsed, "{\"p7\":\"ab712\"}").IsValid);
    }

    [Fact]
    public void UniqueItems_over_a_huge_array_is_charged_to_the_budget()
    {
        var parsed = JsonSchemaFormat.Instance.ParseJson("""{"type":"array","uniqueItems":true}""", []);
        var instance = "[" + string.Join(",", Enumerable.Range(0, 20_000)) + "]";

        var result = SmallStack.Run(() => Validate(parsed, instance));

        Assert.True(result.WorkBudgetExceeded);
    }

    [Fact]
    public void Proto_text_with_20000_nested_messages_is_refused_before_the_parser_sees_it()
    {
        var error = SmallStack.Throws<InvalidSchemaException>(() => ProtobufFormat.Instance.Parse(HostileSchemas.ProtoNested(20_000), []));

        Assert.Contains("nesting exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Proto_text_nested_within_the_limit_parses_and_renders()
    {
        SmallStack.Run(() => ProtobufFormat.Instance.Parse(HostileSchemas.ProtoNested(SchemaLimits.MaxNestingDepth - 1), []));
    }

    [Fact]
    public void A_base64_descriptor_with_20000_nested_messages_is_refused()
    {
        var error = SmallStack.Throws<InvalidSchemaException>(() => ProtobufFormat.Instance.Parse(HostileSchemas.ProtoDescriptorNested(20_000), []));

        Assert.Contains("nesting exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_5000_message_typed_fields_parses_compares_and_builds_descriptors()
    {
        var schema = HostileSchemas.ProtoFieldChain(5_000);

        SmallStack.Run(() =>
        {
            var parsed = (ParsedProtobufSchema)ProtobufFormat.Instance.Parse(schema, []);
            Assert.Empty(parsed.ReadIncompatibilities(ProtobufFormat.Instance.Parse(schema, [])));
            Assert.Equal(5_001, parsed.Messages.Count);
        });
    }

    [Fact]
    public void Protobuf_data_nested_far_too_deep_fails_to_decode_and_encode()
    {
        var parsed = (ParsedProtobufSchema)ProtobufFormat.Instance.Parse("syntax = \"proto3\"; message N { N next = 1; }", []);
        var descriptor = parsed.Messages[0];

        SmallStack.Throws<ProtobufDecodeException>(() =>
            ProtobufJsonTranscoder.Decode(HostileSchemas.ProtoNestedData(100_000), descriptor, new Utf8JsonWriter(new ArrayBufferWriter<byte>())), ProtobufCodecStack);

        var json = string.Concat(Enumerable.Repeat("{\"next\":", 10_000)) + "{}" + new string('}', 10_000);
        using var document = JsonDocument.Parse(json, DeepJson);
        var root = document.RootElement;
        SmallStack.Throws<ProtobufEncodeException>(() => ProtobufJsonTranscoder.Encode(root, descriptor, new ArrayBufferWriter<byte>()), ProtobufCodecStack);
    }

    [Fact]
    public void Deep_struct_values_fail_to_encode_and_decode()
    {
        var parsed = (ParsedProtobufSchema)ProtobufFormat.Instance.Parse(
            "syntax = \"proto3\"; import \"google/protobuf/struct.proto\"; message S { google.protobuf.Value v = 1; }", []);
        var descriptor = parsed.Messages[0];
        using var document = JsonDocument.Parse("{\"v\":" + HostileSchemas.DeepArrays(10_000) + "}", DeepJson);
        var root = document.RootElement;

        SmallStack.Throws<ProtobufEncodeException>(() => ProtobufJsonTranscoder.Encode(root, descriptor, new ArrayBufferWriter<byte>()), ProtobufCodecStack);

        // Value { list_value (6) { values (1) { list_value ... } } }: two length-delimited levels per array level.
        SmallStack.Throws<ProtobufDecodeException>(() =>
            ProtobufJsonTranscoder.Decode(StructData(10_000), descriptor, new Utf8JsonWriter(new ArrayBufferWriter<byte>())), ProtobufCodecStack);
    }

    [Fact]
    public void Avro_schema_json_nested_beyond_the_json_depth_limit_is_invalid()
    {
        SmallStack.Throws<InvalidSchemaException>(() => AvroFormat.Instance.Parse(HostileSchemas.AvroNestedArrays(20_000), []));
    }

    [Fact]
    public void Avro_schema_nested_within_the_json_limit_parses_compares_and_encodes()
    {
        var schema = HostileSchemas.AvroNestedArrays(60);

        SmallStack.Run(() =>
        {
            var parsed = (ParsedAvroSchema)AvroFormat.Instance.Parse(schema, []);
            Assert.Empty(parsed.ReadIncompatibilities(AvroFormat.Instance.Parse(schema, [])));
            _ = new AvroJsonEncoder(parsed.Schema);
            _ = new AvroBinaryDecoder(parsed.Schema);
        });
    }

    [Fact]
    public void Avro_types_nested_across_a_chain_of_references_are_refused_beyond_the_limit()
    {
        // Each reference wraps the previous record in a record: the graph nests one level per reference.
        var references = new List<ResolvedReference>();
        var previous = "\"int\"";
        for (var i = 0; i < SchemaLimits.MaxNestingDepth + 10; i++)
        {
            var text = $$"""{"type":"record","name":"R{{i}}","fields":[{"name":"f","type":{{previous}}}]}""";
            references.Add(new ResolvedReference($"R{i}", $"s{i}", 1, text));
            previous = $"\"R{i}\"";
        }

        var error = SmallStack.Throws<InvalidSchemaException>(() => AvroFormat.Instance.Parse(
            $$"""{"type":"record","name":"Top","fields":[{"name":"f","type":{{previous}}}]}""", references));

        Assert.Contains("nesting exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Avro_recursive_data_nested_far_too_deep_fails_to_decode_and_encode()
    {
        var schema = AvroSchema.Parse(HostileSchemas.AvroLinkedList);

        SmallStack.Throws<AvroDecodeException>(() => new AvroBinaryDecoder(schema).DecodeToJson(HostileSchemas.AvroLinkedListData(100_000)));

        var json = string.Concat(Enumerable.Repeat("{\"next\":{\"Node\":", 5_000)) + "{\"next\":null}" + new string('}', 10_000);
        using var document = JsonDocument.Parse(json, DeepJson);
        var root = document.RootElement;
        var result = SmallStack.Run(() => new AvroJsonEncoder(schema).Encode(root, new ArrayBufferWriter<byte>()));
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Avro_compatibility_of_recursive_schemas_finishes()
    {
        var schema = AvroSchema.Parse(HostileSchemas.AvroLinkedList);

        Assert.True(SmallStack.Run(() => AvroCompatibility.CanRead(schema, schema)).IsCompatible);
    }

    private static JsonValidationResult Validate(ParsedJsonSchema parsed, string json)
    {
        using var document = JsonDocument.Parse(json);
        return parsed.Validator.Validate(document.RootElement);
    }

    private static JsonValidationResult ValidateDeep(ParsedJsonSchema parsed, string json)
    {
        using var document = JsonDocument.Parse(json, DeepJson);
        return parsed.Validator.Validate(document.RootElement);
    }

    private static byte[] StructData(int depth)
    {
        // Value.list_value = 6, ListValue.values = 1; innermost Value is empty.
        var sizes = new int[(2 * depth) + 1];
        for (var i = sizes.Length - 2; i >= 0; i--)
        {
            sizes[i] = 1 + VarintSize(sizes[i + 1]) + sizes[i + 1];
        }

        var bytes = new List<byte> { 0x0A }; // S.v = 1
        bytes.AddRange(Varint(sizes[0]));
        for (var i = 0; i < sizes.Length - 1; i++)
        {
            bytes.Add(i % 2 == 0 ? (byte)0x32 : (byte)0x0A);
            bytes.AddRange(Varint(sizes[i + 1]));
        }

        return bytes.ToArray();
    }

    private static int VarintSize(int value) => Varint(value).Count;

    private static List<byte> Varint(int value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return bytes;
    }
}
