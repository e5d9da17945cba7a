using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas;
using static EventPlatform.Schemas.Tests.JsonSchemas.JsonSchemaParseTests;

namespace EventPlatform.Schemas.Tests.JsonSchemas;

/// <summary>
/// One schema change at a time: what the new schema reports reading old data (BACKWARD) and the
/// old schema reading new data (FORWARD), as "KIND location" under Confluent's default STRICT rules.
/// </summary>
public class JsonSchemaCompatibilityTests
{
    private static string Obj(string properties, string extra = "") =>
        $$"""{"type": "object", "properties": {{{properties}}}{{extra}}}""";

    private const string A = """ "a": {"type": "string"} """;
    private const string B = """ "b": {"type": "string"} """;
    private const string Closed = """, "additionalProperties": false""";

    /// <summary>Case, old schema, new schema, BACKWARD problems, FORWARD problems.</summary>
    public static TheoryData<string, string, string, string, string> Changes => new()
    {
        { "optional property added to closed model", Obj(A, Closed), Obj(A + "," + B, Closed), "", "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b" },
        { "required property added to closed model", Obj(A, Closed), Obj(A + "," + B, Closed + """, "required": ["b"]"""),
            "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b", "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b" },
        { "required property with default added to closed model", Obj(A, Closed), Obj(A + """, "b": {"type": "string", "default": "x"}""", Closed + """, "required": ["b"]"""),
            "", "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b" },
        { "required property added to open model", Obj(A), Obj(A + "," + B, """, "required": ["b"]"""), "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b", "" },
        { "optional property added to open model", Obj(A), Obj(A + "," + B), "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b", "" },
        { "property with empty schema added to open model", Obj(A), Obj(A + """, "b": {}"""), "", "" },
        { "property removed from open model", Obj(A + "," + B), Obj(A), "", "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b" },
        { "property removed from closed model", Obj(A + "," + B, Closed), Obj(A, Closed), "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b", "" },
        { "property added covered by partially open model", Obj(A, """, "additionalProperties": {"type": "string"}"""),
            Obj(A + "," + B, """, "additionalProperties": {"type": "string"}"""), "", "" },
        { "property added not covered by partially open model", Obj(A, """, "additionalProperties": {"type": "string"}"""),
            Obj(A + """, "b": {"type": "number"}""", """, "additionalProperties": {"type": "string"}"""),
            "TYPE_CHANGED #/properties/b;PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
            "TYPE_CHANGED #/properties/b;PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b" },
        { "type changed", Obj(A), Obj(""" "a": {"type": "number"} """), "TYPE_CHANGED #/properties/a", "TYPE_CHANGED #/properties/a" },
        { "integer widened to number", Obj(""" "a": {"type": "integer"} """), Obj(""" "a": {"type": "number"} """), "", "TYPE_NARROWED #/properties/a" },
        { "string widened to nullable string", Obj(A), Obj(""" "a": {"type": ["string", "null"]} """), "", "TYPE_CHANGED #/properties/a" },
        { "enum value added", Obj(""" "a": {"enum": ["x", "y"]} """), Obj(""" "a": {"enum": ["x", "y", "z"]} """), "", "ENUM_ARRAY_NARROWED #/properties/a/enum" },
        { "enum value replaced", Obj(""" "a": {"enum": ["x", "y"]} """), Obj(""" "a": {"enum": ["x", "z"]} """), "ENUM_ARRAY_CHANGED #/properties/a/enum", "ENUM_ARRAY_CHANGED #/properties/a/enum" },
        { "maxLength added", Obj(A), Obj(""" "a": {"type": "string", "maxLength": 8} """), "MAX_LENGTH_ADDED #/properties/a/maxLength", "" },
        { "maxLength increased", Obj(""" "a": {"type": "string", "maxLength": 8} """), Obj(""" "a": {"type": "string", "maxLength": 16} """), "", "MAX_LENGTH_DECREASED #/properties/a/maxLength" },
        { "minimum raised", Obj(""" "n": {"type": "number", "minimum": 0} """), Obj(""" "n": {"type": "number", "minimum": 1} """), "MINIMUM_INCREASED #/properties/n/minimum", "" },
        { "additionalProperties false added", Obj(A), Obj(A, Closed), "ADDITIONAL_PROPERTIES_REMOVED #/additionalProperties", "" },
        { "additionalProperties false removed", Obj(A, Closed), Obj(A), "", "ADDITIONAL_PROPERTIES_REMOVED #/additionalProperties" },
        { "property made required", Obj(A), Obj(A, """, "required": ["a"]"""), "REQUIRED_ATTRIBUTE_ADDED #/required/a", "" },
        { "anyOf branch removed", Obj(""" "a": {"anyOf": [{"type": "string"}, {"type": "number"}]} """), Obj(""" "a": {"anyOf": [{"type": "string"}]} """),
            "SUM_TYPE_NARROWED #/properties/a", "" },
        { "tuple item added to closed array", """{"items": [{"type": "string"}], "additionalItems": false}""",
            """{"items": [{"type": "string"}, {"type": "number"}], "additionalItems": false}""", "", "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL #/items/1" },
        { "seed transaction gains an optional field", SeedPayloadSchemas.Transaction,
            SeedPayloadSchemas.Transaction.Replace("\"status\": {\"type\": \"string\"}", "\"status\": {\"type\": \"string\"}, \"channel\": {\"type\": \"string\"}", StringComparison.Ordinal),
            "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/channel", "" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Each_change_is_judged_as_Confluent_judges_it(string change, string before, string after, string backward, string forward)
    {
        Assert.NotEmpty(change);
        var old = Parse(before);
        var @new = Parse(after);
        Assert.Equal(backward, Render(@new.ReadIncompatibilities(old)));
        Assert.Equal(forward, Render(old.ReadIncompatibilities(@new)));
    }

    [Fact]
    public void A_referenced_schema_is_compared_through_its_ref()
    {
        const string order = """{"type": "object", "properties": {"customer": {"$ref": "customer.json"}}}""";
        var v1 = Parse(order, new ResolvedReference("customer.json", "customer", 1, """{"type": "object", "properties": {"id": {"type": "string"}}}"""));
        var v2 = Parse(order, new ResolvedReference("customer.json", "customer", 2, """{"type": "object", "properties": {"id": {"type": "integer"}}}"""));

        var problem = Assert.Single(v2.ReadIncompatibilities(v1));
        Assert.Equal("TYPE_CHANGED #/properties/customer/properties/id", $"{problem.Kind} {problem.Location}");
        Assert.StartsWith("property 'customer.id': ", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Messages_name_the_property_and_the_reason()
    {
        var problem = Assert.Single(Parse(Obj(A, Closed + """, "required": ["a"]""")).ReadIncompatibilities(Parse(Obj(A, Closed))));
        Assert.Equal("property 'a': the reader makes the property required without a default, but the writer had it optional", problem.Message);
    }

    [Fact]
    public void Recursive_schemas_compare_without_looping()
    {
        const string tree = """{"type": "object", "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}}}""";
        var widened = tree.Replace("integer", "number", StringComparison.Ordinal);
        Assert.Empty(Parse(widened).ReadIncompatibilities(Parse(tree)));
        Assert.Equal("TYPE_NARROWED #/properties/value", Render(Parse(tree).ReadIncompatibilities(Parse(widened))));
    }

    [Fact]
    public void Other_schema_types_are_incompatible()
    {
        var avro = global::EventPlatform.Schemas.Avro.AvroFormat.Instance.Parse("\"string\"", []);
        Assert.NotEmpty(Parse("{}").ReadIncompatibilities(avro));
    }

    private static string Render(IReadOnlyList<SchemaIncompatibility> problems) =>
        string.Join(";", problems.Select(p => $"{p.Kind} {p.Location}"));
}
