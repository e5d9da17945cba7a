using System.Text.Json;
using EventPlatform.Schemas.JsonSchemas;
using static EventPlatform.Schemas.Tests.JsonSchemas.JsonSchemaParseTests;

namespace EventPlatform.Schemas.Tests.JsonSchemas;

public class JsonSchemaValidatorTests
{
    /// <summary>Schema, instance, whether it is valid.</summary>
    public static TheoryData<string, string, bool> Keywords => new()
    {
        { """{"type": "integer"}""", "3", true },
        { """{"type": "integer"}""", "3.0", true },
        { """{"type": "integer"}""", "3.5", false },
        { """{"type": "number"}""", "\"3\"", false },
        { """{"type": ["string", "null"]}""", "null", true },
        { """{"type": ["string", "null"]}""", "1", false },
        { """{"type": "boolean"}""", "false", true },
        { """{"type": "array"}""", "{}", false },
        { """{"enum": ["a", 1, {"k": [1]}]}""", """{"k": [1.0]}""", true },
        { """{"enum": ["a", "b"]}""", "\"c\"", false },
        { """{"enum": ["a", "b"]}""", "\"a\"", true },
        { """{"const": {"a": 1}}""", """{"a": 1}""", true },
        { """{"const": {"a": 1}}""", """{"a": 2}""", false },
        { """{"properties": {"a": {"type": "string"}}}""", """{"a": 1}""", false },
        { """{"properties": {"a": {"type": "string"}}}""", """{"b": 1}""", true },
        { """{"properties": {"a\"b": {"type": "string"}}}""", """{"a\u0022b": 1}""", false },
        { """{"required": ["a"]}""", """{"b": 1}""", false },
        { """{"required": ["a"]}""", "[]", true },
        { """{"properties": {"a": {}}, "additionalProperties": false}""", """{"a": 1}""", true },
        { """{"properties": {"a": {}}, "additionalProperties": false}""", """{"a": 1, "b": 2}""", false },
        { """{"additionalProperties": {"type": "number"}}""", """{"x": "1"}""", false },
        { """{"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": false}""", """{"n_1": 1}""", true },
        { """{"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": false}""", """{"n_1": "1"}""", false },
        { """{"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": false}""", """{"s": 1}""", false },
        { """{"propertyNames": {"maxLength": 2}}""", """{"abc": 1}""", false },
        { """{"minProperties": 1, "maxProperties": 2}""", "{}", false },
        { """{"minProperties": 1, "maxProperties": 2}""", """{"a": 1, "b": 2, "c": 3}""", false },
        { """{"items": {"type": "string"}}""", """["a", 1]""", false },
        { """{"items": [{"type": "string"}, {"type": "number"}]}""", """["a", 1, null]""", true },
        { """{"items": [{"type": "string"}], "additionalItems": false}""", """["a", 1]""", false },
        { """{"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}], "items": false}""", """["a", 1]""", false },
        { """{"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}], "items": false}""", """["a"]""", true },
        { """{"minItems": 2, "maxItems": 3}""", "[1]", false },
        { """{"minItems": 2, "maxItems": 3}""", "[1, 2, 3, 4]", false },
        { """{"uniqueItems": true}""", """[1, {"a": 1}, {"a": 1.0}]""", false },
        { """{"uniqueItems": true}""", """[1, "1", [1]]""", true },
        { """{"contains": {"const": 2}}""", "[1, 3]", false },
        { """{"minLength": 2, "maxLength": 3}""", "\"😀😀😀\"", true },
        { """{"maxLength": 2}""", "\"abc\"", false },
        { """{"minLength": 2}""", "\"\\u00e9\"", false },
        { """{"pattern": "^[A-Z]{3}$"}""", "\"EUR\"", true },
        { """{"pattern": "^[A-Z]{3}$"}""", "\"eur\"", false },
        { """{"pattern": "é"}""", "\"caf\\u00e9\"", true },
        { """{"format": "date-time"}""", "\"2024-02-29T12:30:00.5+01:00\"", true },
        { """{"format": "date-time"}""", "\"2023-02-29T12:30:00Z\"", false },
        { """{"format": "date"}""", "\"2024-13-01\"", false },
        { """{"format": "time"}""", "\"23:59:60Z\"", true },
        { """{"format": "time"}""", "\"24:00:00Z\"", false },
        { """{"format": "email"}""", "\"ops@example.com\"", true },
        { """{"format": "email"}""", "\"ops at example.com\"", false },
        { """{"format": "uuid"}""", "\"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"", true },
        { """{"format": "uuid"}""", "\"3f2504e04f8911d39a0c0305e82c3301\"", false },
        { """{"format": "uri"}""", "\"https://example.com/a?b=1\"", true },
        { """{"format": "uri"}""", "\"/relative/path\"", false },
        { """{"format": "ipv4"}""", "\"192.168.0.1\"", true },
        { """{"format": "ipv4"}""", "\"256.1.1.1\"", false },
        { """{"format": "ipv4"}""", "\"01.1.1.1\"", false },
        { """{"format": "unknown-format"}""", "\"anything\"", true },
        { """{"format": "email"}""", "42", true },
        { """{"minimum": 0, "maximum": 100}""", "100", true },
        { """{"minimum": 0, "maximum": 100}""", "-0.5", false },
        { """{"exclusiveMinimum": 0}""", "0", false },
        { """{"exclusiveMaximum": 10}""", "9.99", true },
        { """{"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 10, "exclusiveMaximum": true}""", "10", false },
        { """{"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 1, "exclusiveMinimum": false}""", "1", true },
        { """{"multipleOf": 0.01}""", "19.99", true },
        { """{"multipleOf": 0.01}""", "19.999", false },
        { """{"multipleOf": 3}""", "1e400", false },
        { """{"allOf": [{"type": "number"}, {"minimum": 5}]}""", "4", false },
        { """{"anyOf": [{"type": "string"}, {"minimum": 5}]}""", "6", true },
        { """{"anyOf": [{"type": "string"}, {"type": "boolean"}]}""", "6", false },
        { """{"oneOf": [{"type": "number"}, {"minimum": 5}]}""", "6", false },
        { """{"oneOf": [{"type": "number"}, {"minimum": 5}]}""", "4", true },
        { """{"not": {"type": "null"}}""", "null", false },
        { """{"if": {"properties": {"k": {"const": "card"}}}, "then": {"required": ["pan"]}, "else": {"required": ["iban"]}}""", """{"k": "card", "iban": 1}""", false },
        { """{"if": {"properties": {"k": {"const": "card"}}}, "then": {"required": ["pan"]}, "else": {"required": ["iban"]}}""", """{"k": "bank", "iban": 1}""", true },
        { """{"dependencies": {"card": ["cvv"]}}""", """{"card": 1}""", false },
        { """{"dependencies": {"card": {"required": ["cvv"]}}}""", """{"other": 1}""", true },
        { """{"dependentRequired": {"card": ["cvv"]}}""", """{"card": 1, "cvv": 2}""", true },
        { """{"dependentSchemas": {"card": {"properties": {"cvv": {"type": "string"}}}}}""", """{"card": 1, "cvv": 2}""", false },
        { """{"definitions": {"pos": {"minimum": 0}}, "properties": {"n": {"$ref": "#/definitions/pos"}}}""", """{"n": -1}""", false },
        { """{"$defs": {"pos": {"minimum": 0}}, "properties": {"n": {"$ref": "#/$defs/pos"}}}""", """{"n": 1}""", true },
        { """{"type": "object", "properties": {"child": {"$ref": "#"}}, "required": ["v"]}""", """{"v": 1, "child": {"child": {}}}""", false },
        { """{"$ref": "#/definitions/s", "maxLength": 1, "definitions": {"s": {"type": "string"}}}""", "\"long\"", true },
        { """{"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/s", "maxLength": 1, "$defs": {"s": {"type": "string"}}}""", "\"long\"", false },
        { "false", "1", false },
        { "true", "1", true },
    };

    [Theory]
    [MemberData(nameof(Keywords))]
    public void Each_keyword_accepts_and_rejects(string schema, string instance, bool valid)
    {
        var result = Parse(schema).Validator.Validate(JsonDocument.Parse(instance).RootElement);
        Assert.Equal(valid, result.IsValid);
        Assert.Equal(valid, result.MissingFields.Count + result.InvalidFields.Count == 0);
    }

    [Fact]
    public void Transaction_reports_the_missing_amount_and_the_bad_currency()
    {
        var validator = Parse(SeedPayloadSchemas.Transaction).Validator;
        var result = validator.Validate("""{"currency": "usd", "merchant": "m"}"""u8);
        Assert.Equal(["amount"], result.MissingFields);
        var error = Assert.Single(result.InvalidFields);
        Assert.Equal("currency", error.Path);
        Assert.Contains("pattern", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensor_reports_a_string_temperature_and_an_out_of_range_humidity()
    {
        var validator = Parse(SeedPayloadSchemas.IotSensor).Validator;
        var result = validator.Validate("""{"temperature": "21.5", "humidity": 140}"""u8);
        Assert.Contains(new JsonFieldError("temperature", "expected number, got string"), result.InvalidFields);
        Assert.Contains(result.InvalidFields, e => e.Path == "humidity" && e.Reason.Contains("out of range", StringComparison.Ordinal));
        Assert.True(validator.Validate("""{"humidity": 40, "vendor": "acme"}"""u8).IsValid);
    }

    [Fact]
    public void Sensor_without_temperature_or_humidity_names_both_in_the_reason()
    {
        var result = Parse(SeedPayloadSchemas.IotSensor).Validator.Validate("""{"pressure": 1013}"""u8);
        var error = Assert.Single(result.InvalidFields);
        Assert.Equal("$", error.Path);
        Assert.Contains("missing temperature", error.Reason, StringComparison.Ordinal);
        Assert.Contains("missing humidity", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nested_paths_are_dotted_with_array_indexes()
    {
        var schema = """{"properties": {"lines": {"items": {"required": ["sku"], "properties": {"qty": {"type": "integer"}}}}}}""";
        var result = Parse(schema).Validator.Validate("""{"lines": [{"sku": "a"}, {"qty": 1.5}]}"""u8);
        Assert.Equal(["lines[1].sku"], result.MissingFields);
        Assert.Equal([new JsonFieldError("lines[1].qty", "expected integer, got number")], result.InvalidFields);
    }

    [Fact]
    public void Text_that_is_not_json_is_an_invalid_root()
    {
        var result = Parse(SeedPayloadSchemas.Clickstream).Validator.Validate("{\"page\": "u8);
        Assert.False(result.IsValid);
        Assert.Equal("$", Assert.Single(result.InvalidFields).Path);
    }

    [Fact]
    public void Validating_a_valid_instance_allocates_nothing()
    {
        var validator = Parse(SeedPayloadSchemas.Transaction).Validator;
        using var document = JsonDocument.Parse("""{"amount": 12.5, "currency": "EUR", "merchant": "shop", "status": "ok"}""");
        var instance = document.RootElement;
        Assert.True(validator.Validate(instance).IsValid); // warm up
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            validator.Validate(instance);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void One_validator_is_safe_to_share_between_threads()
    {
        var validator = Parse(SeedPayloadSchemas.Clickstream).Validator;
        var valid = """{"page": "/", "duration_ms": 5}"""u8.ToArray();
        var invalid = """{"page": 1, "duration_ms": -5}"""u8.ToArray();
        var failures = 0;
        Parallel.For(0, 4000, i =>
        {
            var result = validator.Validate(i % 2 == 0 ? valid : invalid);
            if (result.IsValid != (i % 2 == 0) || (!result.IsValid && result.InvalidFields.Count != 2))
            {
                Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
