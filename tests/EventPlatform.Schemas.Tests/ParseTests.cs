using EventPlatform.Schemas.Compatibility;
using static EventPlatform.Schemas.Tests.AvroSchemas;

namespace EventPlatform.Schemas.Tests;

public class ParseTests
{
    [Fact]
    public void The_seed_event_parses_with_its_names_defaults_and_unions()
    {
        var record = Assert.IsType<AvroRecordSchema>(AvroSchema.Parse(Event));

        Assert.Equal("com.platform.events.Event", record.FullName);
        Assert.Equal(["event_id", "timestamp", "event_type", "user_id", "device_id", "payload"], record.Fields.Select(f => f.Name));
        Assert.Equal([false, false, false, true, true, false], record.Fields.Select(f => f.HasDefault));
        var userId = Assert.IsType<AvroUnionSchema>(record.Fields[3].Type);
        Assert.Equal(["null", "string"], userId.Branches.Select(b => b.TypeName));
    }

    [Fact]
    public void Nested_names_take_the_enclosing_namespace_and_references_resolve_to_the_same_type()
    {
        var record = Assert.IsType<AvroRecordSchema>(AvroSchema.Parse("""
            {"type": "record", "name": "Outer", "namespace": "a.b", "aliases": ["Old", "x.Older"], "fields": [
              {"name": "first", "type": {"type": "record", "name": "Inner", "fields": []}},
              {"name": "second", "type": "Inner"},
              {"name": "third", "type": "a.b.Inner"},
              {"name": "kind", "type": {"type": "enum", "name": "Kind", "namespace": "c", "symbols": ["A"]}},
              {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
            """));

        Assert.Equal(["a.b.Old", "x.Older"], record.Aliases);
        var inner = Assert.IsType<AvroRecordSchema>(record.Fields[0].Type);
        Assert.Equal("a.b.Inner", inner.FullName);
        Assert.Same(inner, record.Fields[1].Type);
        Assert.Same(inner, record.Fields[2].Type);
        Assert.Equal("c.Kind", Assert.IsType<AvroEnumSchema>(record.Fields[3].Type).FullName);
        Assert.Equal("long", record.Fields[4].Type.TypeName);
    }

    [Fact]
    public void A_recursive_record_refers_to_itself()
    {
        var node = Assert.IsType<AvroRecordSchema>(AvroSchema.Parse("""
            {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}
            """));

        Assert.Same(node, Assert.IsType<AvroUnionSchema>(node.Fields[0].Type).Branches[1]);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("\"Unknown\"")]
    [InlineData("42")]
    [InlineData("""{"type": "record", "name": "R"}""")]
    [InlineData("""{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}""")]
    [InlineData("""{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Later"}]}""")]
    [InlineData("""{"type": "record", "name": "1R", "fields": []}""")]
    [InlineData("""{"type": "enum", "name": "E", "symbols": ["A", "A"]}""")]
    [InlineData("""{"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}""")]
    [InlineData("""{"type": "fixed", "name": "F"}""")]
    [InlineData("""["null", "string", "null"]""")]
    [InlineData("""["null", ["int"]]""")]
    [InlineData("""{"type": "array"}""")]
    [InlineData("""[{"type": "fixed", "name": "F", "size": 1}, {"type": "fixed", "name": "F", "size": 2}]""")]
    public void Invalid_schemas_are_rejected(string json) =>
        Assert.Throws<AvroSchemaParseException>(() => AvroSchema.Parse(json));
}
