using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using static EventPlatform.Schemas.Tests.Protobuf.ProtobufTestSchemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

/// <summary>Confluent's BACKWARD check: the new schema (reader) reads data written with the old one (writer).</summary>
public class ProtobufCompatibilityTests
{
    private static readonly string Event = SeedProtobufSchemas.Event;

    private static string EventReplacing(string field, string replacement) =>
        Event.Contains(field, StringComparison.Ordinal)
            ? Event.Replace(field, replacement, StringComparison.Ordinal)
            : throw new ArgumentException($"'{field}' is not in the Event schema.", nameof(field));

    private static IReadOnlyList<SchemaIncompatibility> Backward(string oldSchema, string newSchema) =>
        Parse(newSchema).ReadIncompatibilities(Parse(oldSchema));

    [Fact]
    public void A_schema_reads_itself()
    {
        Assert.Empty(Backward(Event, Event));
        Assert.Empty(Backward(Sample, Sample));
    }

    [Fact]
    public void Adding_a_field_is_compatible_both_ways()
    {
        var added = EventReplacing("google.protobuf.Struct metadata = 7;", "google.protobuf.Struct metadata = 7; int64 sequence = 8;");

        Assert.Empty(Backward(Event, added));
        Assert.Empty(Backward(added, Event));
    }

    [Fact]
    public void Removing_or_renaming_a_field_is_compatible_as_in_confluent()
    {
        Assert.Empty(Backward(Event, EventReplacing("optional string device_id = 5;", "")));
        Assert.Empty(Backward(Event, EventReplacing("string event_type = 3;", "string kind = 3;")));
    }

    [Fact]
    public void Renumbering_a_field_onto_another_fields_number_is_incompatible()
    {
        // timestamp and event_type swap numbers: number 2 was a Timestamp and is now a string.
        var renumbered = EventReplacing("google.protobuf.Timestamp timestamp = 2;", "google.protobuf.Timestamp timestamp = 3;")
            .Replace("string event_type = 3;", "string event_type = 2;", StringComparison.Ordinal);

        var found = Backward(Event, renumbered);

        Assert.Equal(
            [("FIELD_KIND_CHANGED", "#/Event/2"), ("FIELD_KIND_CHANGED", "#/Event/3")],
            found.Select(f => (f.Kind, f.Location)));
        Assert.Contains("'event_type' (2)", found[0].Message, StringComparison.Ordinal);
        Assert.Contains("message google.protobuf.Timestamp", found[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renumbering_to_a_free_number_is_a_removal_and_an_addition_which_confluent_allows()
    {
        Assert.Empty(Backward(Event, EventReplacing("string event_type = 3;", "string event_type = 9;")));
    }

    [Theory]
    [InlineData("int32", "int64")]
    [InlineData("int32", "uint64")]
    [InlineData("uint32", "bool")]
    [InlineData("sint32", "sint64")]
    [InlineData("fixed32", "sfixed32")]
    [InlineData("sfixed64", "fixed64")]
    [InlineData("string", "bytes")]
    public void Changing_a_type_within_a_wire_compatible_group_is_compatible(string from, string to)
    {
        Assert.Empty(Backward(Field(from), Field(to)));
    }

    [Theory]
    [InlineData("int32", "sint32")]
    [InlineData("int64", "fixed64")]
    [InlineData("fixed32", "float")]
    [InlineData("double", "fixed64")]
    [InlineData("string", "int32")]
    [InlineData("bool", "string")]
    public void Changing_a_type_across_groups_is_incompatible(string from, string to)
    {
        var found = Assert.Single(Backward(Field(from), Field(to)));

        Assert.Equal(("FIELD_SCALAR_KIND_CHANGED", "#/M/1"), (found.Kind, found.Location));
        Assert.Contains($"'value' (1) changed type from {from} to {to}", found.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_enum_field_reads_as_an_integer_and_a_scalar_cannot_become_a_message()
    {
        const string WithEnum = "syntax = \"proto3\"; enum E { A = 0; } message M { E value = 1; }";

        Assert.Empty(Backward(Field("int32"), WithEnum));
        Assert.Equal("FIELD_KIND_CHANGED", Assert.Single(Backward(Field("int32"), "syntax = \"proto3\"; message N {} message M { N value = 1; }")).Kind);
    }

    [Fact]
    public void Removing_a_message_is_incompatible_and_adding_one_is_not()
    {
        var two = Event + "message Batch { repeated Event events = 1; }";

        Assert.Empty(Backward(Event, two));
        var found = Assert.Single(Backward(two, Event));
        Assert.Equal(("MESSAGE_REMOVED", "#/Batch"), (found.Kind, found.Location));
    }

    [Fact]
    public void Enum_values_added_or_removed_are_compatible_as_in_confluent()
    {
        const string Before = "syntax = \"proto3\"; enum Kind { UNKNOWN = 0; CLICK = 1; VIEW = 2; } message M { Kind kind = 1; }";

        Assert.Empty(Backward(Before, Before.Replace("VIEW = 2;", "VIEW = 2; BUY = 3;", StringComparison.Ordinal)));
        Assert.Empty(Backward(Before, Before.Replace("VIEW = 2;", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Changing_the_package_is_incompatible()
    {
        var found = Assert.Single(Backward(Event, Event.Replace("package com.platform.events;", "package com.platform.v2;", StringComparison.Ordinal)));

        Assert.Equal(("PACKAGE_CHANGED", "#/"), (found.Kind, found.Location));
    }

    [Fact]
    public void Oneof_changes_follow_confluent()
    {
        const string Before = "syntax = \"proto3\"; message M { oneof choice { string a = 1; int32 b = 2; } string c = 3; string d = 4; }";

        // Adding a member, or the whole oneof going away, is compatible.
        Assert.Empty(Backward(Before, Before.Replace("int32 b = 2;", "int32 b = 2; bool e = 5;", StringComparison.Ordinal)));
        Assert.Empty(Backward(Before, "syntax = \"proto3\"; message M { string c = 3; string d = 4; }"));
        // A member moved out to the top level is compatible.
        Assert.Empty(Backward(Before, "syntax = \"proto3\"; message M { oneof choice { string a = 1; } int32 b = 2; string c = 3; string d = 4; }"));

        var memberRemoved = Assert.Single(Backward(Before, Before.Replace("int32 b = 2;", "", StringComparison.Ordinal)));
        Assert.Equal(("ONEOF_FIELD_REMOVED", "#/M/choice/2"), (memberRemoved.Kind, memberRemoved.Location));

        var oneMovedIn = Assert.Single(Backward(Before, "syntax = \"proto3\"; message M { oneof choice { string a = 1; int32 b = 2; string c = 3; } string d = 4; }"));
        Assert.Equal(("FIELD_MOVED_TO_EXISTING_ONEOF", "#/M/choice"), (oneMovedIn.Kind, oneMovedIn.Location));

        var twoMovedIn = Assert.Single(Backward(Before, "syntax = \"proto3\"; message M { oneof choice { string a = 1; int32 b = 2; } oneof other { string c = 3; string d = 4; } }"));
        Assert.Equal(("MULTIPLE_FIELDS_MOVED_TO_ONEOF", "#/M/other"), (twoMovedIn.Kind, twoMovedIn.Location));
    }

    [Fact]
    public void A_type_change_inside_a_oneof_is_located_at_the_oneof()
    {
        const string Before = "syntax = \"proto3\"; message M { oneof choice { string a = 1; int32 b = 2; } }";

        var found = Assert.Single(Backward(Before, Before.Replace("int32 b", "double b", StringComparison.Ordinal)));

        Assert.Equal(("FIELD_SCALAR_KIND_CHANGED", "#/M/choice/2"), (found.Kind, found.Location));
    }

    [Fact]
    public void Proto2_required_fields_cannot_be_added_or_removed()
    {
        const string Before = "syntax = \"proto2\"; message M { required string id = 1; }";
        const string After = "syntax = \"proto2\"; message M { required string id = 1; required int32 n = 2; }";

        Assert.Equal(("REQUIRED_FIELD_ADDED", "#/M/2"), Only(Backward(Before, After)));
        Assert.Equal(("REQUIRED_FIELD_REMOVED", "#/M/2"), Only(Backward(After, Before)));
    }

    [Fact]
    public void A_numeric_field_cannot_become_repeated_but_a_string_can()
    {
        const string Before = "syntax = \"proto2\"; message M { optional int32 n = 1; optional string s = 2; }";
        var after = Before.Replace("optional int32 n", "repeated int32 n", StringComparison.Ordinal)
            .Replace("optional string s", "repeated string s", StringComparison.Ordinal);

        Assert.Equal(("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1"), Only(Backward(Before, after)));
    }

    [Fact]
    public void Nested_messages_and_map_values_are_compared()
    {
        const string Before = "syntax = \"proto3\"; message M { message Inner { int32 x = 1; } Inner inner = 1; map<string, Inner> byName = 2; map<string, int32> counts = 3; }";

        Assert.Equal(("FIELD_SCALAR_KIND_CHANGED", "#/M/Inner/1"), Only(Backward(Before, Before.Replace("int32 x", "string x", StringComparison.Ordinal))));
        Assert.Equal(("FIELD_SCALAR_KIND_CHANGED", "#/M/3"), Only(Backward(Before, Before.Replace("map<string, int32>", "map<string, double>", StringComparison.Ordinal))));
        Assert.Equal(("FIELD_KIND_CHANGED", "#/M/3"), Only(Backward(Before, Before.Replace("map<string, int32> counts", "int32 counts", StringComparison.Ordinal))));
    }

    [Fact]
    public void A_referenced_message_that_changed_is_compared_through_the_field()
    {
        static ResolvedReference Common(int version, string type) =>
            new("common.proto", "common-value", version, $"syntax = \"proto3\"; package common; message Money {{ {type} units = 1; }}");
        const string Schema = "syntax = \"proto3\"; import \"common.proto\"; message Order { common.Money total = 1; }";

        var v1 = Parse(Schema, Common(1, "int64"));
        var sameVersion = Parse(Schema, Common(1, "int64"));
        var v2 = Parse(Schema, Common(2, "string"));

        Assert.Empty(sameVersion.ReadIncompatibilities(v1));
        Assert.Equal(
            [("FIELD_SCALAR_KIND_CHANGED", "#/Money/1"), ("FIELD_NAMED_TYPE_CHANGED", "#/Order/1")],
            v2.ReadIncompatibilities(v1).Select(f => (f.Kind, f.Location)));
    }

    [Fact]
    public void A_message_that_refers_to_itself_is_compared_without_looping()
    {
        const string Tree = "syntax = \"proto3\"; message Node { string name = 1; repeated Node children = 2; }";

        Assert.Empty(Backward(Tree, Tree));
        Assert.Equal(("FIELD_SCALAR_KIND_CHANGED", "#/Node/1"), Only(Backward(Tree, Tree.Replace("string name", "int32 name", StringComparison.Ordinal))));
    }

    [Fact]
    public void Another_schema_type_is_incompatible()
    {
        var avro = global::EventPlatform.Schemas.Avro.AvroFormat.Instance.Parse("\"string\"", []);

        Assert.Equal("TYPE_MISMATCH", Assert.Single(Parse(Event).ReadIncompatibilities(avro)).Kind);
    }

    private static string Field(string type) => $"syntax = \"proto3\"; message M {{ {type} value = 1; }}";

    private static (string Kind, string Location) Only(IReadOnlyList<SchemaIncompatibility> found)
    {
        var single = Assert.Single(found);
        return (single.Kind, single.Location);
    }
}
