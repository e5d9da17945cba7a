using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Schemas;

namespace EventPlatform.Schemas.Tests.Avro;

public class SchemaTests
{
    private static ParsedAvroSchema Parse(string schema, params ResolvedReference[] references) =>
        Assert.IsType<ParsedAvroSchema>(AvroFormat.Instance.Parse(schema, references));

    private static string Field(string type, string defaultValue) =>
        $$"""{"type": "record", "name": "R", "fields": [{"name": "f", "type": {{type}}, "default": {{defaultValue}}}]}""";

    [Theory]
    [InlineData("\"int\"", "2147483648")]
    [InlineData("\"int\"", "1.5")]
    [InlineData("\"long\"", "9223372036854775808")]
    [InlineData("\"long\"", "\"1\"")]
    [InlineData("\"float\"", "\"x\"")]
    [InlineData("\"boolean\"", "0")]
    [InlineData("\"null\"", "0")]
    [InlineData("\"string\"", "null")]
    [InlineData("\"bytes\"", "\"\\u0100\"")]
    [InlineData("[\"null\", \"string\"]", "\"a\"")]
    [InlineData("[\"string\", \"null\"]", "null")]
    [InlineData("""{"type": "fixed", "name": "F", "size": 2}""", "\"a\"")]
    [InlineData("""{"type": "enum", "name": "E", "symbols": ["A"]}""", "\"B\"")]
    [InlineData("""{"type": "array", "items": "int"}""", "[1, \"2\"]")]
    [InlineData("""{"type": "map", "values": "int"}""", "{\"a\": null}")]
    [InlineData("""{"type": "record", "name": "In", "fields": [{"name": "x", "type": "int"}]}""", "{}")]
    [InlineData("""{"type": "record", "name": "In", "fields": [{"name": "x", "type": "int"}]}""", "{\"x\": true}")]
    public void Invalid_defaults_are_rejected_naming_the_field(string type, string defaultValue)
    {
        var error = Assert.Throws<InvalidSchemaException>(() => Parse(Field(type, defaultValue)));

        Assert.Contains("field 'f'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"int\"", "-2147483648")]
    [InlineData("\"long\"", "9223372036854775807")]
    [InlineData("\"double\"", "\"NaN\"")]
    [InlineData("\"float\"", "1")]
    [InlineData("\"bytes\"", "\"\\u00ff\"")]
    [InlineData("[\"null\", \"string\"]", "null")]
    [InlineData("[\"string\", \"null\"]", "\"a\"")]
    [InlineData("""{"type": "fixed", "name": "F", "size": 2}""", "\"ab\"")]
    [InlineData("""{"type": "array", "items": ["null", "int"]}""", "[null, null]")]
    [InlineData("""{"type": "map", "values": "string"}""", "{\"a\": \"b\"}")]
    [InlineData("""{"type": "record", "name": "In", "fields": [{"name": "x", "type": "int", "default": 1}, {"name": "y", "type": "string"}]}""", "{\"y\": \"z\"}")]
    [InlineData("""{"type": "long", "logicalType": "timestamp-millis"}""", "0")]
    public void Valid_defaults_are_kept_on_the_field(string type, string defaultValue)
    {
        var record = Assert.IsType<AvroRecordSchema>(Parse(Field(type, defaultValue)).Schema);

        Assert.Equal(Schemas.JsonText.Compact(defaultValue), Schemas.JsonText.Compact(record.Fields[0].Default!.Value));
    }

    [Fact]
    public void A_default_may_use_a_record_defined_after_the_field()
    {
        var schema = Parse("""
            {"type": "record", "name": "A", "fields": [
              {"name": "b", "type": {"type": "record", "name": "B", "fields": [
                {"name": "a", "type": ["A", "null"], "default": {"b": {}, "n": 1}}]}},
              {"name": "n", "type": "int"}]}
            """);

        Assert.True(Assert.IsType<AvroRecordSchema>(schema.Schema).Fields[0].Type is AvroRecordSchema { Fields: [{ HasDefault: true }] });
    }

    [Fact]
    public void References_make_their_named_types_available()
    {
        var address = new ResolvedReference("com.acme.Address", "address-value", 1,
            """{"type": "record", "name": "Address", "namespace": "com.acme", "fields": [{"name": "city", "type": "string"}, {"name": "country", "type": "com.acme.Country"}]}""");
        var country = new ResolvedReference("com.acme.Country", "country-value", 2,
            """{"type": "enum", "name": "Country", "namespace": "com.acme", "symbols": ["FR", "DE"]}""");

        var customer = Parse(
            """{"type": "record", "name": "Customer", "namespace": "com.acme", "fields": [{"name": "home", "type": "Address"}, {"name": "work", "type": ["null", "com.acme.Address"]}]}""",
            country, address, country);

        var home = Assert.IsType<AvroRecordSchema>(Assert.IsType<AvroRecordSchema>(customer.Schema).Fields[0].Type);
        Assert.Equal("com.acme.Address", home.FullName);
        Assert.IsType<AvroEnumSchema>(home.Fields[1].Type);
        Assert.Equal(
            """{"name":"com.acme.Customer","type":"record","fields":[{"name":"home","type":"com.acme.Address"},{"name":"work","type":["null","com.acme.Address"]}]}""",
            customer.NormalizedText);
    }

    [Fact]
    public void Without_its_reference_a_schema_is_invalid()
    {
        Assert.Throws<InvalidSchemaException>(() => Parse("""{"type": "record", "name": "C", "fields": [{"name": "a", "type": "com.acme.Address"}]}"""));
        Assert.Throws<InvalidSchemaException>(() => Parse("\"int\"", new ResolvedReference("X", "s", 1, "{not json")));
    }

    [Fact]
    public void The_canonical_text_is_the_compact_text_as_sent()
    {
        var parsed = Parse("""
            { "type" : "record", "namespace": "n", "name" : "R", "doc": "d",
              "fields" : [ { "name": "a", "type": "int" } ] }
            """);

        Assert.Equal("""{"type":"record","namespace":"n","name":"R","doc":"d","fields":[{"name":"a","type":"int"}]}""", parsed.CanonicalText);
    }

    [Fact]
    public void The_normalized_text_ignores_spelling_but_keeps_what_resolution_uses()
    {
        var a = Parse("""
            {"namespace": "n", "type": "record", "name": "R", "doc": "x", "aliases": ["Z", "Old"], "fields": [
              {"type": {"type": "int"}, "name": "a", "doc": "y", "order": "descending", "default": 1},
              {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"}},
              {"name": "e2", "type": "n.E", "aliases": ["e_old"]},
              {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "m", "type": {"values": {"type": "fixed", "size": 2, "name": "F", "namespace": "o", "logicalType": "decimal", "precision": 4, "scale": 2}, "type": "map"}}]}
            """);
        var b = Parse("""
            {"type": "record", "name": "n.R", "aliases": ["n.Old", "n.Z"], "fields": [
              {"name": "a", "type": "int", "default": 1},
              {"name": "e", "type": {"type": "enum", "name": "n.E", "symbols": ["A", "B"], "default": "A", "doc": "z"}},
              {"name": "e2", "type": "E", "aliases": ["e_old"]},
              {"name": "t", "type": {"logicalType": "timestamp-millis", "type": "long"}},
              {"name": "m", "type": {"type": "map", "values": {"type": "fixed", "name": "o.F", "size": 2, "scale": 2, "precision": 4, "logicalType": "decimal"}}}]}
            """);

        Assert.Equal(a.NormalizedText, b.NormalizedText);
        Assert.NotEqual(a.CanonicalText, b.CanonicalText);
        Assert.Equal(
            """{"name":"n.R","type":"record","aliases":["n.Old","n.Z"],"fields":[{"name":"a","type":"int","default":1},{"name":"e","type":{"name":"n.E","type":"enum","symbols":["A","B"],"default":"A"}},{"name":"e2","aliases":["e_old"],"type":"n.E"},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"m","type":{"type":"map","values":{"name":"o.F","type":"fixed","size":2,"logicalType":"decimal","precision":4,"scale":2}}}]}""",
            a.NormalizedText);
    }

    [Fact]
    public void A_different_default_changes_the_normalized_text()
    {
        Assert.NotEqual(Parse(Field("\"int\"", "1")).NormalizedText, Parse(Field("\"int\"", "2")).NormalizedText);
    }

    [Fact]
    public void The_seed_schemas_are_compatible_both_ways()
    {
        var v1 = Parse(SeedAvroSchemas.Event);
        var v2 = Parse(SeedAvroSchemas.EventWithMetadata);

        Assert.Empty(v2.ReadIncompatibilities(v1));
        Assert.Empty(v1.ReadIncompatibilities(v2));
        Assert.Equal(SeedAvroSchemas.Event, v1.CanonicalText);
    }
}
