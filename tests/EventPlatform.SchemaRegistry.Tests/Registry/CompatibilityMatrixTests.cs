using System.Text.Json.Nodes;
using EventPlatform.Schemas.Protobuf;
using Google.Protobuf.Reflection;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>
/// Each schema type at each Confluent level, through the REST API: a change the test knows to be
/// readable in one direction, the other, both or neither is accepted exactly where the level asks
/// for those directions (and refused elsewhere with a 409 that names the field).
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class CompatibilityMatrixTests(RegistryFixture fixture)
{
    private static readonly string[] Levels = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];

    /// <summary>(type, name, v1, v2, new reads old, old reads new, field the 409 must name).</summary>
    public static TheoryData<string, string, string, string, bool, bool, string> Changes() => new()
    {
        { "AVRO", "field added with default", Avro("a:string"), Avro("a:string", "b:string=x"), true, true, "b" },
        { "AVRO", "field added without default", Avro("a:string"), Avro("a:string", "b:string"), false, true, "b" },
        { "AVRO", "field without default removed", Avro("a:string", "b:string"), Avro("a:string"), true, false, "b" },
        { "AVRO", "int promoted to long", Avro("a:int"), Avro("a:long"), true, false, "a" },
        { "AVRO", "enum symbol added", AvroEnum("A", "B"), AvroEnum("A", "B", "C"), true, false, "C" },
        { "AVRO", "string changed to int", Avro("a:string"), Avro("a:int"), false, false, "a" },
        { "JSON", "optional property added to a closed model", Json(closed: true, "a"), Json(closed: true, "a", "b"), true, false, "b" },
        { "JSON", "property made required", Json(closed: false, "a"), JsonRequired("a"), false, true, "a" },
        { "JSON", "property removed from a closed model", Json(closed: true, "a", "b"), Json(closed: true, "a"), false, true, "b" },
        { "JSON", "integer widened to number", JsonTyped("integer"), JsonTyped("number"), true, false, "a" },
        { "JSON", "description changed", Json(closed: true, "a"), Json(closed: true, "a").Replace("\"type\":\"object\"", "\"type\":\"object\",\"description\":\"x\"", StringComparison.Ordinal), true, true, "" },
        { "PROTOBUF", "field added", Proto("string a = 1;"), Proto("string a = 1;", "int64 b = 2;"), true, true, "" },
        { "PROTOBUF", "field renumbered onto another type", Proto("string a = 1;", "int64 b = 2;"), Proto("int64 a = 1;", "string b = 2;"), false, false, "a" },
        { "PROTOBUF", "int32 to int64 (same wire group)", Proto("int32 a = 1;"), Proto("int64 a = 1;"), true, true, "" },
        { "PROTOBUF", "message removed", Proto("string a = 1;") + "message Other { string x = 1; }\n", Proto("string a = 1;"), false, true, "Other" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task Every_level_accepts_exactly_the_directions_it_asks_for(string type, string change, string v1, string v2, bool newReadsOld, bool oldReadsNew, string field)
    {
        foreach (var level in Levels)
        {
            var subject = RegistryFixture.NewSubject("matrix");
            Assert.Equal(200, (await PutAsync(fixture.Registry.Client, $"config/{subject}", new { compatibility = level })).Status);
            Assert.Equal(200, (await PostAsync(fixture.Registry.Client, $"subjects/{subject}/versions", new { schema = v1, schemaType = type })).Status);

            var expected = level switch
            {
                "NONE" => true,
                "BACKWARD" or "BACKWARD_TRANSITIVE" => newReadsOld,
                "FORWARD" or "FORWARD_TRANSITIVE" => oldReadsNew,
                _ => newReadsOld && oldReadsNew,
            };

            var (_, check) = await PostAsync(fixture.Registry.Client, $"compatibility/subjects/{subject}/versions?verbose=true", new { schema = v2, schemaType = type });
            Assert.True(expected == check!["is_compatible"]!.GetValue<bool>(), $"{type} {change} at {level}: {check.ToJsonString()}");

            var (status, body) = await PostAsync(fixture.Registry.Client, $"subjects/{subject}/versions", new { schema = v2, schemaType = type });
            if (expected)
            {
                Assert.True(status == 200, $"{type} {change} at {level}: {body?.ToJsonString()}");
            }
            else
            {
                Assert.True(status == 409, $"{type} {change} at {level}: {body?.ToJsonString()}");
                Assert.Contains(field, body!["message"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_proto_file_sent_as_text_and_as_a_base64_descriptor_is_one_schema()
    {
        var subject = RegistryFixture.NewSubject("proto");
        var text = SeedProtobufSchemas.Event;
        var parsed = (ParsedProtobufSchema)ProtobufFormat.Instance.Parse(text, []);
        using var stream = new MemoryStream();
        FileDescriptorSet.Serializer.Serialize(stream, parsed.File);
        var base64 = Convert.ToBase64String(stream.ToArray());

        var (_, first) = await PostAsync(fixture.Registry.Client, $"subjects/{subject}/versions", new { schema = text, schemaType = "PROTOBUF" });
        var (_, second) = await PostAsync(fixture.Registry.Client, $"subjects/{subject}/versions", new { schema = base64, schemaType = "PROTOBUF" });
        Assert.Equal(first!["id"]!.GetValue<int>(), second!["id"]!.GetValue<int>());
        Assert.Equal(1, second["version"]!.GetValue<int>());

        var (status, found) = await PostAsync(fixture.Registry.Client, $"subjects/{subject}", new { schema = base64, schemaType = "PROTOBUF" });
        Assert.Equal(200, status);
        Assert.Contains("message Event", found!["schema"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string Avro(params string[] fields) =>
        new JsonObject
        {
            ["type"] = "record",
            ["name"] = "R",
            ["fields"] = new JsonArray([.. fields.Select(f =>
            {
                var (name, rest) = (f.Split(':')[0], f.Split(':')[1]);
                var field = new JsonObject { ["name"] = name, ["type"] = rest.Split('=')[0] };
                if (rest.Contains('=', StringComparison.Ordinal))
                {
                    field["default"] = rest.Split('=')[1];
                }

                return (JsonNode)field;
            })]),
        }.ToJsonString();

    private static string AvroEnum(params string[] symbols) =>
        new JsonObject { ["type"] = "enum", ["name"] = "E", ["symbols"] = new JsonArray([.. symbols.Select(s => (JsonNode)JsonValue.Create(s))]) }.ToJsonString();

    private static string Json(bool closed, params string[] properties) =>
        new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p, (JsonNode?)new JsonObject { ["type"] = "string" }))),
            ["additionalProperties"] = !closed,
        }.ToJsonString();

    private static string JsonRequired(string property) =>
        new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { [property] = new JsonObject { ["type"] = "string" } },
            ["required"] = new JsonArray(property),
            ["additionalProperties"] = true,
        }.ToJsonString();

    private static string JsonTyped(string type) =>
        new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["a"] = new JsonObject { ["type"] = type } }, ["additionalProperties"] = false }.ToJsonString();

    private static string Proto(params string[] fields) =>
        "syntax = \"proto3\";\npackage matrix;\nmessage M {\n" + string.Concat(fields.Select(f => "  " + f + "\n")) + "}\n";
}
