extern alias gpb;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using FsCheck.Xunit;
using Google.Protobuf.Reflection;
using WellKnown = gpb::Google.Protobuf.WellKnownTypes;
using static EventPlatform.Schemas.Tests.Protobuf.ProtobufTestSchemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

public class ProtobufParseTests
{
    private const string Proto2 = """
        syntax = "proto2";
        package test.v2;
        option java_package = "com.example.v2";
        option optimize_for = SPEED;
        import "google/protobuf/timestamp.proto";

        message Order {
          required string id = 1;
          optional int32 quantity = 2 [default = 1];
          optional string note = 3 [default = "a \"quoted\"\n note"];
          repeated int64 lines = 4 [packed = true];
          optional Status status = 5 [default = OPEN, deprecated = true];
          optional google.protobuf.Timestamp at = 6;
          optional string renamed = 7 [json_name = "other"];
          reserved 8, 10 to 12, 100 to max;
          reserved "legacy";
          extensions 1000 to 1999;
          enum Status { option allow_alias = true; OPEN = 0; STARTED = 1; RUNNING = 1; }
        }

        extend Order { optional string tag = 1000; }

        service Orders { rpc Get (Order) returns (stream Order); }
        """;

    public static TheoryData<string> Schemas => [SeedProtobufSchemas.Event, Sample, Proto2];

    [Theory]
    [MemberData(nameof(Schemas))]
    public void A_base64_file_descriptor_has_the_same_canonical_text_as_the_proto_text(string schema)
    {
        var fromText = Parse(schema);
        var descriptor = Convert.ToBase64String(SerializedDescriptor(schema));

        var fromDescriptor = Parse(descriptor);

        Assert.Equal(fromText.CanonicalText, fromDescriptor.CanonicalText);
        Assert.Equal(fromText.NormalizedText, fromDescriptor.NormalizedText);
    }

    [Theory]
    [MemberData(nameof(Schemas))]
    public void Canonical_and_normalized_texts_parse_back_to_themselves(string schema)
    {
        var parsed = Parse(schema);

        Assert.Equal(parsed.CanonicalText, Parse(parsed.CanonicalText).CanonicalText);
        Assert.Equal(parsed.NormalizedText, Parse(parsed.NormalizedText).NormalizedText);
        Assert.Equal(parsed.NormalizedText, Parse(parsed.CanonicalText).NormalizedText);
    }

    [Fact]
    public void Google_protobuf_descriptors_as_the_dotnet_serializer_sends_them_match_the_proto_files()
    {
        // Confluent's .NET ProtobufSerializer registers Descriptor.File.SerializedData as base64.
        var sent = new[]
        {
            WellKnown.Timestamp.Descriptor.File, WellKnown.Struct.Descriptor.File, WellKnown.Duration.Descriptor.File,
            WellKnown.Int64Value.Descriptor.File, WellKnown.Any.Descriptor.File, WellKnown.Empty.Descriptor.File,
        };
        foreach (var file in sent)
        {
            var fromGoogle = Parse(file.SerializedData.ToBase64());
            var imported = Parse($"syntax = \"proto3\"; import \"{file.Name}\";").Files.Single(f => f.Name == file.Name);

            Assert.Equal(ProtoTextWriter.Render(imported, ProtoTextStyle.Canonical), fromGoogle.CanonicalText);
        }
    }

    [Fact]
    public void The_canonical_text_is_formatted_proto_text()
    {
        var parsed = Parse("syntax='proto3';package a.b;import 'google/protobuf/timestamp.proto';\n// comment\nmessage M{ map<string,int32> counts=1; .google.protobuf.Timestamp at=2; oneof c { string x=3; } optional bool y = 4; M self = 5; }");

        Assert.Equal("""
            syntax = "proto3";
            package a.b;

            import "google/protobuf/timestamp.proto";

            message M {
              map<string, int32> counts = 1;
              google.protobuf.Timestamp at = 2;
              oneof c {
                string x = 3;
              }
              optional bool y = 4;
              M self = 5;
            }

            """, parsed.CanonicalText);
        Assert.Contains("  .a.b.M self = 5;", parsed.NormalizedText, StringComparison.Ordinal);
        Assert.Contains("  .google.protobuf.Timestamp at = 2;", parsed.NormalizedText, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalizing_ignores_the_order_of_imports_and_options()
    {
        const string A = "syntax = \"proto3\"; import \"google/protobuf/timestamp.proto\"; import \"google/protobuf/struct.proto\"; option java_package = \"x\"; option go_package = \"y\"; message M { google.protobuf.Timestamp t = 1; google.protobuf.Struct s = 2; }";
        const string B = "syntax = \"proto3\"; import \"google/protobuf/struct.proto\"; import \"google/protobuf/timestamp.proto\"; option go_package = \"y\"; option java_package = \"x\"; message M { .google.protobuf.Timestamp t = 1; .google.protobuf.Struct s = 2; }";

        Assert.NotEqual(Parse(A).CanonicalText, Parse(B).CanonicalText);
        Assert.Equal(Parse(A).NormalizedText, Parse(B).NormalizedText);
    }

    [Theory]
    [InlineData("syntax = \"proto3\";\nmessage M {\n  int32 x = ;\n}", "line 3")]
    [InlineData("syntax = \"proto3\";\nmessage M {\n  Missing x = 1;\n}", "type not found: 'Missing' (line 3")]
    [InlineData("syntax = \"proto3\";\nimport \"other.proto\";\nmessage M {}", "unable to find: 'other.proto' (line 2")]
    [InlineData("syntax = \"proto3\"; message M { int32 x = 1; int32 y = 1; }", "line 1")]
    [InlineData("hello", "Invalid schema")]
    [InlineData("message {", "Invalid schema")]
    [InlineData("syntax = \"proto4\"; message M {}", "Invalid schema")]
    [InlineData("syntax = \"proto2\"; message M { optional group G = 1 { optional int32 x = 2; } }", "groups are not supported")]
    [InlineData("syntax = \"proto3\"; message M { map<double, int32> m = 1; }", "Invalid schema")]
    [InlineData("AAAAAAAA", "Invalid schema")]
    public void Invalid_schemas_are_rejected_with_the_parser_message_and_line(string schema, string expected)
    {
        var error = Assert.Throws<InvalidSchemaException>(() => Parse(schema));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public void Arbitrary_base64_is_a_valid_schema_or_an_invalid_schema_error(byte[] bytes)
    {
        var text = Convert.ToBase64String([0x0A, .. bytes]);

        try
        {
            Assert.NotNull(Parse(text).CanonicalText);
        }
        catch (InvalidSchemaException)
        {
        }
    }

    [Fact]
    public void Imports_are_resolved_from_references_transitively_in_text_or_base64()
    {
        var money = new ResolvedReference("common/money.proto", "money", 1, "syntax = \"proto3\"; package common; message Money { int64 units = 1; }");
        var priceText = "syntax = \"proto3\"; package shop; import \"common/money.proto\"; message Price { common.Money amount = 1; }";
        var price = new ResolvedReference("shop/price.proto", "price", 3, Convert.ToBase64String(SerializedDescriptor(priceText, money)));
        const string Order = "syntax = \"proto3\"; package shop; import \"shop/price.proto\"; message Order { Price price = 1; }";

        var parsed = Parse(Order, money, price);

        var amount = parsed.Messages[0].Fields[0].MessageType!.Fields[0];
        Assert.Equal("common.Money", amount.MessageType!.FullName);
        var error = Assert.Throws<InvalidSchemaException>(() => Parse(Order, price));
        Assert.Contains("common/money.proto", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Well_known_types_are_importable_without_references()
    {
        var parsed = Parse("""
            syntax = "proto3";
            import "google/protobuf/timestamp.proto"; import "google/protobuf/struct.proto"; import "google/protobuf/wrappers.proto";
            import "google/protobuf/any.proto"; import "google/protobuf/duration.proto"; import "google/protobuf/empty.proto";
            message M { google.protobuf.Timestamp t = 1; google.protobuf.Struct s = 2; google.protobuf.StringValue w = 3;
              google.protobuf.Any a = 4; google.protobuf.Duration d = 5; google.protobuf.Empty e = 6; }
            """);

        Assert.Equal(
            [ProtobufWellKnownType.Timestamp, ProtobufWellKnownType.Struct, ProtobufWellKnownType.Wrapper, ProtobufWellKnownType.None, ProtobufWellKnownType.Duration, ProtobufWellKnownType.None],
            parsed.Messages[0].Fields.Select(f => f.MessageType!.WellKnownType));
    }

    [Fact]
    public void The_seed_event_schema_is_valid_and_has_the_event_message_first()
    {
        var parsed = Parse(SeedProtobufSchemas.Event);

        Assert.Equal(SeedProtobufSchemas.EventMessageName, parsed.Messages[0].FullName);
        Assert.Equal(SchemaType.PROTOBUF, ProtobufFormat.Instance.Type);
    }

    /// <summary>The schema's FileDescriptorProto as protobuf bytes (what a serializer would send, base64-encoded).</summary>
    private static byte[] SerializedDescriptor(string schema, params ResolvedReference[] references)
    {
        var file = Parse(schema, references).File;
        using var stream = new MemoryStream();
        FileDescriptorSet.Serializer.Serialize(stream, file);
        return stream.ToArray();
    }
}
