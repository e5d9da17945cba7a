using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas;

namespace EventPlatform.Schemas.Tests.JsonSchemas;

public class JsonSchemaParseTests
{
    internal static ParsedJsonSchema Parse(string schema, params ResolvedReference[] references) =>
        JsonSchemaFormat.Instance.ParseJson(schema, references);

    /// <summary>Bad schema, a word the error message must contain.</summary>
    public static TheoryData<string, string> BadSchemas => new()
    {
        { "not json", "not JSON" },
        { "42", "must be an object or a boolean" },
        { """["string"]""", "must be an object or a boolean" },
        { """{"type": "text"}""", "unknown type 'text'" },
        { """{"type": ["string", 3]}""", "type must be" },
        { """{"type": []}""", "type must be" },
        { """{"type": ["string", "string"]}""", "twice" },
        { """{"required": "amount"}""", "required must be an array" },
        { """{"required": ["amount", 1]}""", "required must be an array of strings" },
        { """{"properties": []}""", "properties must be an object" },
        { """{"properties": {"a": 1}}""", "#/properties/a" },
        { """{"additionalProperties": "no"}""", "#/additionalProperties" },
        { """{"items": 3}""", "#/items" },
        { """{"items": [{"type": "string"}, 7]}""", "#/items/1" },
        { """{"minLength": -1}""", "minLength must be a non-negative integer" },
        { """{"maxItems": 1.5}""", "maxItems must be a non-negative integer" },
        { """{"minimum": "0"}""", "minimum must be a number" },
        { """{"multipleOf": 0}""", "multipleOf must be a number greater than 0" },
        { """{"pattern": "([a-z"}""", "not a valid regular expression" },
        { """{"patternProperties": {"(": {}}}""", "not a valid regular expression" },
        { """{"enum": "a"}""", "enum must be an array" },
        { """{"uniqueItems": "yes"}""", "uniqueItems must be a boolean" },
        { """{"allOf": []}""", "non-empty array" },
        { """{"anyOf": {}}""", "anyOf must be an array" },
        { """{"not": 1}""", "#/not" },
        { """{"dependencies": {"a": 1}}""", "#/dependencies/a" },
        { """{"dependentRequired": {"a": {}}}""", "array of property names" },
        { """{"$ref": 5}""", "$ref must be a string" },
        { """{"$ref": "#/definitions/missing"}""", "does not resolve" },
        { """{"$ref": "customer.json"}""", "no schema reference is named 'customer.json'" },
        { """{"$ref": "#"}""", "loop" },
        { """{"allOf": [{"$ref": "#"}]}""", "loop" },
        { """{"exclusiveMaximum": true}""", "needs maximum" },
        { """{"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{}], "items": [{}]}""", "items must be a schema" },
    };

    [Theory]
    [MemberData(nameof(BadSchemas))]
    public void Invalid_schemas_are_rejected_with_a_clear_message(string schema, string expected)
    {
        var e = Assert.Throws<InvalidSchemaException>(() => Parse(schema));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("{}")]
    [InlineData("""{"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5, "exclusiveMaximum": true}""")]
    [InlineData("""{"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"}""")]
    [InlineData("""{"type": "object", "properties": {"next": {"$ref": "#"}}}""")]
    [InlineData("""{"x-custom": [1, 2], "type": "string"}""")]
    public void Valid_schemas_parse(string schema) => Assert.Equal(SchemaType.JSON, Parse(schema).Type);

    [Fact]
    public void Canonical_text_is_compact_and_normalized_text_also_sorts_keys()
    {
        var parsed = Parse("""
            { "type" : "object",
              "properties": { "b": {"type": "string"}, "a": {"maxLength": 3, "type": "string"} },
              "enum": [ {"z": 1, "y": 2} ] }
            """);
        Assert.Equal("""{"type":"object","properties":{"b":{"type":"string"},"a":{"maxLength":3,"type":"string"}},"enum":[{"z":1,"y":2}]}""", parsed.CanonicalText);
        Assert.Equal("""{"enum":[{"y":2,"z":1}],"properties":{"a":{"maxLength":3,"type":"string"},"b":{"type":"string"}},"type":"object"}""", parsed.NormalizedText);
    }

    [Fact]
    public void Refs_resolve_through_references_by_name_url_and_fragment()
    {
        var customer = new ResolvedReference("customer.json", "customer-value", 1,
            """
            {"type": "object", "properties": {"id": {"type": "string"}, "address": {"$ref": "address.json"}}, "required": ["id"],
             "definitions": {"tier": {"enum": ["gold", "silver"]}}}
            """);
        var address = new ResolvedReference("address.json", "address-value", 2, """{"type": "object", "required": ["city"]}""");
        var byUrl = new ResolvedReference("https://example.com/schemas/product.schema.json", "product-value", 1, """{"type": "string"}""");
        var order = Parse("""
            {"$id": "https://example.com/schemas/order.schema.json", "type": "object",
             "properties": {"customer": {"$ref": "customer.json"}, "tier": {"$ref": "customer.json#/definitions/tier"},
                            "product": {"$ref": "product.schema.json"}}}
            """, address, customer, byUrl);

        Assert.True(order.Validator.Validate("""{"customer": {"id": "c1", "address": {"city": "Oslo"}}, "tier": "gold", "product": "p"}"""u8).IsValid);
        var result = order.Validator.Validate("""{"customer": {"address": {}}, "tier": "bronze", "product": 3}"""u8);
        Assert.Equal(["customer.address.city", "customer.id"], result.MissingFields.Order());
        Assert.Equal(["product", "tier"], result.InvalidFields.Select(e => e.Path).Order());
    }
}
