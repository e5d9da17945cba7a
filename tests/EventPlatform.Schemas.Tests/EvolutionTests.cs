using EventPlatform.Schemas.Compatibility;
using static EventPlatform.Schemas.Compatibility.AvroIncompatibilityKind;
using static EventPlatform.Schemas.Tests.AvroSchemas;

namespace EventPlatform.Schemas.Tests;

/// <summary>
/// The seed's Event schema evolved one step at a time: what a reader of the new schema reports for
/// old data (BACKWARD) and a reader of the old schema for new data (FORWARD), kind and location exactly.
/// </summary>
public class EvolutionTests
{
    private const string Device = """{"type": "record", "name": "Device", "fields": [{"name": "model", "type": "string"}]}""";
    private const string DeviceWithOs = """{"type": "record", "name": "Device", "fields": [{"name": "model", "type": "string"}, {"name": "os", "type": "string"}]}""";

    private const string LinkedList = """
        {"type": "record", "name": "Node", "namespace": "com.platform.lists",
         "fields": [{"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": null}]}
        """;

    private const string LinkedListLongWithLabel = """
        {"type": "record", "name": "Node", "namespace": "com.platform.lists",
         "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"], "default": null},
                    {"name": "label", "type": "string", "default": ""}]}
        """;

    private const string LinkedListWithRequiredLabel = """
        {"type": "record", "name": "Node", "namespace": "com.platform.lists",
         "fields": [{"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": null},
                    {"name": "label", "type": "string"}]}
        """;

    /// <summary>Case name, old schema, new schema, expected BACKWARD problems, expected FORWARD problems ("KIND location;...").</summary>
    public static TheoryData<string, string, string, string, string> Evolutions => new()
    {
        { "field added with default", Event, EventWith(""", {"name": "session_id", "type": ["null", "string"], "default": null}"""), "", "" },
        { "field added without default", Event, EventWith(""", {"name": "session_id", "type": "string"}"""), "READER_FIELD_MISSING_DEFAULT_VALUE /fields/session_id", "" },
        { "field with a default removed", Event, EventReplacing("""{"name": "user_id", "type": ["null", "string"], "default": null},""", ""), "", "" },
        { "field without a default removed", Event, EventReplacing("""{"name": "event_type", "type": "string"},""", ""), "", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/event_type" },
        { "int promoted to long", EventWith(""", {"name": "retries", "type": "int"}"""), EventWith(""", {"name": "retries", "type": "long"}"""), "", "TYPE_MISMATCH /fields/retries/type" },
        { "long to double, float to double", EventWith(""", {"name": "a", "type": "long"}, {"name": "b", "type": "float"}"""), EventWith(""", {"name": "a", "type": "double"}, {"name": "b", "type": "double"}"""), "", "TYPE_MISMATCH /fields/a/type;TYPE_MISMATCH /fields/b/type" },
        { "string and bytes read each other", Event, EventReplacing("""{"name": "payload", "type": "string"}""", """{"name": "payload", "type": "bytes"}"""), "", "" },
        { "string changed to int", Event, EventReplacing("""{"name": "payload", "type": "string"}""", """{"name": "payload", "type": "int"}"""), "TYPE_MISMATCH /fields/payload/type", "TYPE_MISMATCH /fields/payload/type" },
        { "enum symbol added", EventWith(Platform("WEB", "MOBILE")), EventWith(Platform("WEB", "MOBILE", "IOT")), "", "MISSING_ENUM_SYMBOLS /fields/platform/type/symbols" },
        { "enum symbol removed", EventWith(Platform("WEB", "MOBILE", "IOT")), EventWith(Platform("WEB", "MOBILE")), "MISSING_ENUM_SYMBOLS /fields/platform/type/symbols", "" },
        { "enum symbol added, readers have a default symbol", EventWith(Platform("UNKNOWN", "WEB")), EventWith(Platform("UNKNOWN", "WEB", "IOT")), "", "" },
        { "enum renamed", EventWith(Platform("WEB")), EventWith(Platform("WEB").Replace("\"Platform\"", "\"Channel\"", StringComparison.Ordinal)), "NAME_MISMATCH /fields/platform/type/name", "NAME_MISMATCH /fields/platform/type/name" },
        { "union widened", Event, EventReplacing("""{"name": "user_id", "type": ["null", "string"], "default": null}""", """{"name": "user_id", "type": ["null", "string", "int"], "default": null}"""), "", "MISSING_UNION_BRANCH /fields/user_id/type/2" },
        { "plain type widened to a union", Event, EventReplacing("""{"name": "payload", "type": "string"}""", """{"name": "payload", "type": ["string", "null"]}"""), "", "TYPE_MISMATCH /fields/payload/type/1" },
        { "union branch read by promotion", EventWith(""", {"name": "n", "type": ["null", "int"]}"""), EventWith(""", {"name": "n", "type": ["null", "long"]}"""), "", "MISSING_UNION_BRANCH /fields/n/type/1" },
        { "fixed size changed", EventWith(Digest(16)), EventWith(Digest(32)), "FIXED_SIZE_MISMATCH /fields/digest/type/size", "FIXED_SIZE_MISMATCH /fields/digest/type/size" },
        { "fixed size kept", EventWith(Digest(16)), EventWith(Digest(16)), "", "" },
        { "record renamed without alias", Event, EventWith("", name: "Occurrence"), "NAME_MISMATCH /name", "NAME_MISMATCH /name" },
        { "record renamed with alias", Event, EventWith("", name: "Occurrence", header: """ "aliases": ["com.platform.events.Event"], """), "", "NAME_MISMATCH /name" },
        { "namespace changed (unqualified names match)", Event, Event.Replace("com.platform.events", "com.platform.v2", StringComparison.Ordinal), "", "" },
        { "field renamed with alias", Event, EventReplacing("""{"name": "payload", "type": "string"}""", """{"name": "body", "type": "string", "aliases": ["payload"]}"""), "", "READER_FIELD_MISSING_DEFAULT_VALUE /fields/payload" },
        { "nested record gains a field without default", EventWith($$$""", {"name": "device", "type": {{{Device}}}}"""), EventWith($$$""", {"name": "device", "type": {{{DeviceWithOs}}}}"""), "READER_FIELD_MISSING_DEFAULT_VALUE /fields/device/type/fields/os", "" },
        { "records in arrays and maps", EventWith($$$""", {"name": "devices", "type": {"type": "array", "items": {{{Device}}}}}, {"name": "by_id", "type": {"type": "map", "values": "Device"}}"""), EventWith($$$""", {"name": "devices", "type": {"type": "array", "items": {{{DeviceWithOs}}}}}, {"name": "by_id", "type": {"type": "map", "values": "Device"}}"""), "READER_FIELD_MISSING_DEFAULT_VALUE /fields/devices/type/items/fields/os;READER_FIELD_MISSING_DEFAULT_VALUE /fields/by_id/type/values/fields/os", "" },
        { "union items inside a union branch", EventWith(""", {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string"]}], "default": null}"""), EventWith(""", {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string", "int"]}], "default": null}"""), "", "MISSING_UNION_BRANCH /fields/tags/type/1" },
        { "recursive linked list, value promoted, label with default", LinkedList, LinkedListLongWithLabel, "", "TYPE_MISMATCH /fields/value/type" },
        { "recursive linked list, label without default", LinkedList, LinkedListWithRequiredLabel, "READER_FIELD_MISSING_DEFAULT_VALUE /fields/label", "" },
        { "recursive linked list against itself", LinkedList, LinkedList, "", "" },
    };

    [Theory]
    [MemberData(nameof(Evolutions))]
    public void Backward_and_forward_report_exactly_the_expected_problems(string name, string oldSchema, string newSchema, string backward, string forward)
    {
        Assert.False(string.IsNullOrEmpty(name));
        Assert.Equal(Expected(backward), Found(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, newSchema, [oldSchema])));
        Assert.Equal(Expected(forward), Found(AvroCompatibility.Check(CompatibilityLevel.FORWARD, newSchema, [oldSchema])));
        Assert.Equal(Expected(backward).Concat(Expected(forward)), Found(AvroCompatibility.Check(CompatibilityLevel.FULL, newSchema, [oldSchema])));
        Assert.True(AvroCompatibility.Check(CompatibilityLevel.NONE, newSchema, [oldSchema]).IsCompatible);
    }

    [Fact]
    public void A_missing_field_message_names_the_field_the_record_and_the_version()
    {
        var result = AvroCompatibility.Check(CompatibilityLevel.BACKWARD, EventWith(""", {"name": "session_id", "type": "string"}"""), [Event]);

        var problem = Assert.Single(result.Incompatibilities);
        Assert.Equal(READER_FIELD_MISSING_DEFAULT_VALUE, problem.Kind);
        Assert.Contains("'session_id'", problem.Message, StringComparison.Ordinal);
        Assert.Contains("com.platform.events.Event", problem.Message, StringComparison.Ordinal);
        Assert.Contains("no default value", problem.Message, StringComparison.Ordinal);
        Assert.Contains("previous schema 1 of 1", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_mismatch_message_names_the_field_path_and_both_types()
    {
        var oldSchema = EventWith($$$""", {"name": "device", "type": {{{Device}}}}""");
        var newSchema = EventWith($$$""", {"name": "device", "type": {{{Device.Replace("\"string\"", "\"int\"", StringComparison.Ordinal)}}}}""");

        var problem = Assert.Single(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, newSchema, [oldSchema]).Incompatibilities);
        Assert.Equal((TYPE_MISMATCH, "/fields/device/type/fields/model/type"), (problem.Kind, problem.Location));
        Assert.Contains("field 'device.model': the reader's type int cannot read the writer's type string", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_enum_message_lists_the_missing_symbols()
    {
        var result = AvroCompatibility.CanRead(AvroSchema.Parse(EventWith(Platform("WEB"))), AvroSchema.Parse(EventWith(Platform("WEB", "IOT", "TV"))));

        var problem = Assert.Single(result.Incompatibilities);
        Assert.Equal(MISSING_ENUM_SYMBOLS, problem.Kind);
        Assert.Contains("[IOT, TV]", problem.Message, StringComparison.Ordinal);
        Assert.StartsWith("field 'platform': ", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reader_union_uses_the_first_matching_branch()
    {
        // The writer's record matches the reader's first "Device" branch by name; that branch cannot
        // read it (a field without default), and the later catch-all branch is not tried.
        var reader = AvroSchema.Parse($$$"""[{{{DeviceWithOs}}}, "string"]""");
        var writer = AvroSchema.Parse(Device);

        var problem = Assert.Single(AvroCompatibility.CanRead(reader, writer).Incompatibilities);
        Assert.Equal((READER_FIELD_MISSING_DEFAULT_VALUE, "/fields/os"), (problem.Kind, problem.Location));
    }

    [Fact]
    public void A_mismatch_at_the_top_is_located_at_the_root()
    {
        var problem = Assert.Single(AvroCompatibility.CanRead(AvroSchema.Parse("\"int\""), AvroSchema.Parse("\"string\"")).Incompatibilities);
        Assert.Equal((TYPE_MISMATCH, "/"), (problem.Kind, problem.Location));
    }

    [Fact]
    public void A_record_shared_by_many_fields_reports_each_place()
    {
        var oldSchema = EventWith($$$""", {"name": "a", "type": {{{Device}}}}, {"name": "b", "type": "Device"}, {"name": "c", "type": {"type": "array", "items": "Device"}}""");
        var newSchema = EventWith($$$""", {"name": "a", "type": {{{DeviceWithOs}}}}, {"name": "b", "type": "Device"}, {"name": "c", "type": {"type": "array", "items": "Device"}}""");

        Assert.Equal(
            ["/fields/a/type/fields/os", "/fields/b/type/fields/os", "/fields/c/type/items/fields/os"],
            AvroCompatibility.Check(CompatibilityLevel.BACKWARD, newSchema, [oldSchema]).Incompatibilities.Select(i => i.Location));
    }

    // An enum field; with an UNKNOWN symbol, that symbol is the enum's default.
    private static string Platform(params string[] symbols)
    {
        var list = string.Join(", ", symbols.Select(s => $"\"{s}\""));
        var defaultSymbol = symbols.Contains("UNKNOWN") ? ", \"default\": \"UNKNOWN\"" : "";
        return $$$""", {"name": "platform", "type": {"type": "enum", "name": "Platform", "symbols": [{{{list}}}]{{{defaultSymbol}}}}}""";
    }

    private static string Digest(int size) => $$$""", {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": {{{size}}}}}""";

    private static List<string> Expected(string problems) =>
        problems.Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();

    private static List<string> Found(CompatibilityResult result) =>
        result.Incompatibilities.Select(i => $"{i.Kind} {i.Location}").ToList();
}
