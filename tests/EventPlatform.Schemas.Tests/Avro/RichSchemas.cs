using EventPlatform.Schemas.Avro;

namespace EventPlatform.Schemas.Tests.Avro;

/// <summary>Schemas that use every Avro type, and evolutions of them, for codec tests.</summary>
internal static class RichSchemas
{
    public const string Everything = """
        {"type": "record", "name": "Everything", "namespace": "test.rich", "fields": [
          {"name": "n", "type": "null"},
          {"name": "b", "type": "boolean"},
          {"name": "i", "type": "int"},
          {"name": "l", "type": "long"},
          {"name": "f", "type": "float"},
          {"name": "d", "type": "double"},
          {"name": "s", "type": "string"},
          {"name": "by", "type": "bytes"},
          {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"], "default": "RED"}},
          {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
          {"name": "tags", "type": {"type": "array", "items": "string"}},
          {"name": "scores", "type": {"type": "map", "values": ["null", "double"]}},
          {"name": "choice", "type": ["null", "string", "long", "double", "boolean"]},
          {"name": "maybe_color", "type": ["null", "Color"], "default": null},
          {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "id", "type": "long"},
            {"name": "hashes", "type": {"type": "array", "items": "Hash"}},
            {"name": "blob", "type": ["bytes", "null"]}]}},
          {"name": "inners", "type": {"type": "array", "items": "Inner"}},
          {"name": "nested", "type": {"type": "map", "values": {"type": "array", "items": {"type": "map", "values": "int"}}}}
        ]}
        """;

    public const string LinkedList = """
        {"type": "record", "name": "Node", "fields": [
          {"name": "value", "type": "int"},
          {"name": "label", "type": ["null", "string"], "default": null},
          {"name": "next", "type": ["null", "Node"]}]}
        """;

    public const string TopLevelUnion = """["null", "int", "string", {"type": "array", "items": "double"}, {"type": "map", "values": "float"}]""";

    public const string Tree = """
        {"type": "record", "name": "Tree", "fields": [
          {"name": "name", "type": "string"},
          {"name": "children", "type": {"type": "array", "items": "Tree"}},
          {"name": "attributes", "type": {"type": "map", "values": ["null", "boolean", "int", "string", "Tree"]}}]}
        """;

    public static readonly string[] All = [SeedAvroSchemas.Event, SeedAvroSchemas.EventWithMetadata, Everything, LinkedList, TopLevelUnion, Tree];

    // Apache Avro for .NET lacks the string/bytes promotion: that one is checked by hand elsewhere.
    public const string PromotionsWriter = """
        {"type": "record", "name": "P", "fields": [
          {"name": "a", "type": "int"}, {"name": "b", "type": "long"}, {"name": "c", "type": "float"},
          {"name": "e", "type": "int"}, {"name": "f", "type": "long"},
          {"name": "g", "type": ["long", "int"]}, {"name": "h", "type": "int"},
          {"name": "arr", "type": {"type": "array", "items": "int"}}, {"name": "m", "type": {"type": "map", "values": "float"}}]}
        """;

    public const string PromotionsReader = """
        {"type": "record", "name": "P", "fields": [
          {"name": "a", "type": "long"}, {"name": "b", "type": "double"}, {"name": "c", "type": "double"},
          {"name": "e", "type": "float"}, {"name": "f", "type": "float"},
          {"name": "g", "type": "double"}, {"name": "h", "type": ["null", "long"]},
          {"name": "arr", "type": {"type": "array", "items": "double"}}, {"name": "m", "type": {"type": "map", "values": "double"}}]}
        """;

    // Fields reordered, removed (a complex writer-only field) and added with defaults; the record renamed
    // with an alias. (Apache Avro for .NET fails on field aliases: those are checked by hand elsewhere.)
    public const string ReshapeWriter = """
        {"type": "record", "name": "R", "namespace": "old", "fields": [
          {"name": "a", "type": "int"},
          {"name": "junk", "type": {"type": "array", "items": {"type": "map", "values": ["null", {"type": "record", "name": "J", "fields": [{"name": "x", "type": "string"}, {"name": "y", "type": {"type": "fixed", "name": "F", "size": 3}}]}]}}},
          {"name": "b", "type": "string"},
          {"name": "more_junk", "type": ["null", "J", {"type": "enum", "name": "E", "symbols": ["P", "Q"]}]},
          {"name": "c", "type": {"type": "record", "name": "C", "fields": [{"name": "z", "type": "double"}]}}]}
        """;

    public const string ReshapeReader = """
        {"type": "record", "name": "R2", "namespace": "new", "aliases": ["old.R"], "fields": [
          {"name": "c", "type": {"type": "record", "name": "C", "namespace": "old", "fields": [{"name": "z", "type": "double"}, {"name": "w", "type": {"type": "array", "items": "int"}, "default": [1, 2]}]}},
          {"name": "b", "type": "string"},
          {"name": "a", "type": "int"},
          {"name": "added", "type": {"type": "record", "name": "Added", "fields": [{"name": "k", "type": "bytes", "default": "\u00ff\u0000"}, {"name": "f", "type": {"type": "fixed", "name": "F2", "size": 2}, "default": "ab"}]}, "default": {}},
          {"name": "opt", "type": ["null", "string"], "default": null},
          {"name": "num", "type": ["long", "null"], "default": 42}]}
        """;

    public const string EnumWriter = """{"type": "enum", "name": "Suit", "symbols": ["HEARTS", "SPADES", "CLUBS", "DIAMONDS"]}""";

    public const string EnumReader = """{"type": "enum", "name": "Suit", "symbols": ["UNKNOWN", "SPADES", "HEARTS"], "default": "UNKNOWN"}""";

    public const string UnionWriter = """{"type": "record", "name": "U", "fields": [{"name": "v", "type": ["int", "long", "float"]}, {"name": "w", "type": "int"}]}""";

    public const string UnionReader = """{"type": "record", "name": "U", "fields": [{"name": "v", "type": "double"}, {"name": "w", "type": ["null", "string", "long"]}]}""";

    /// <summary>Writer and reader pairs whose every datum resolves (checked against Apache Avro).</summary>
    public static readonly (string Writer, string Reader)[] Resolvable =
    [
        (SeedAvroSchemas.Event, SeedAvroSchemas.EventWithMetadata),
        (SeedAvroSchemas.EventWithMetadata, SeedAvroSchemas.Event),
        (PromotionsWriter, PromotionsReader),
        (ReshapeWriter, ReshapeReader),
        (EnumWriter, EnumReader),
        (UnionWriter, UnionReader),
        (Everything, Everything),
    ];
}
