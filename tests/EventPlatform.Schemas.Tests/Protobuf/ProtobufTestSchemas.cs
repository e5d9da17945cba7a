using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

/// <summary>Schemas and helpers shared by the Protobuf tests.</summary>
internal static class ProtobufTestSchemas
{
    /// <summary>Every scalar type, repeated (packed and not), maps, a oneof, an enum, nested messages, wrappers.</summary>
    public const string Sample = """
        syntax = "proto3";
        package test.codec;
        import "google/protobuf/wrappers.proto";
        import "google/protobuf/duration.proto";

        message Sample {
          enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }
          message Inner { string name = 1; repeated sint64 values = 2; }
          double d = 1; float f = 2; int64 i64 = 3; uint64 u64 = 4; int32 i32 = 5;
          fixed64 f64 = 6; fixed32 f32 = 7; bool b = 8; string s = 9; bytes by = 10;
          uint32 u32 = 13; Color color = 14; sfixed32 sf32 = 15; sfixed64 sf64 = 16; sint32 s32 = 17; sint64 s64 = 18;
          repeated int32 packed_ints = 20;
          repeated string names = 21;
          repeated Inner inners = 22;
          map<string, Inner> by_name = 23;
          map<int32, string> labels = 24;
          oneof choice { string text = 30; Inner inner = 31; }
          google.protobuf.Int64Value maybe_count = 40;
          google.protobuf.StringValue maybe_name = 41;
          google.protobuf.Duration elapsed = 42;
          repeated double unpacked = 43 [packed = false];
        }
        """;

    public static ParsedProtobufSchema Parse(string schema, params ResolvedReference[] references) =>
        (ParsedProtobufSchema)ProtobufFormat.Instance.Parse(schema, references);

    public static ProtobufMessageDescriptor EventMessage { get; } = Parse(SeedProtobufSchemas.Event).Messages[0];

    public static ProtobufMessageDescriptor SampleMessage { get; } = Parse(Sample).Messages[0];

    public static byte[] Encode(string json, ProtobufMessageDescriptor message)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1000 });
        var output = new ArrayBufferWriter<byte>();
        ProtobufJsonTranscoder.Encode(document.RootElement, message, output);
        return output.WrittenSpan.ToArray();
    }

    public static string Decode(ReadOnlySpan<byte> bytes, ProtobufMessageDescriptor message)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            ProtobufJsonTranscoder.Decode(bytes, message, writer);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>The JSON in one spelling (strings re-escaped, numbers as written, order kept), to compare texts.</summary>
    public static string Compact(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1000 });
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { MaxDepth = 1000 }))
        {
            Write(document.RootElement, writer);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void Write(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Write(property.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                writer.WriteRawValue(element.GetRawText());
                break;
        }
    }
}
