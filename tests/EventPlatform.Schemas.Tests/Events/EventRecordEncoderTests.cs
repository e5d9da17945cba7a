using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Schemas.Tests.Events;

/// <summary>The event model encoded straight to Avro, against the general encoder over the event's JSON (the reference).</summary>
public class EventRecordEncoderTests
{
    private static readonly AvroJsonEncoderOptions EventEncoding = AvroJsonEncoderOptions.Default with { AcceptTimestampStrings = true, JsonTextForStrings = true };

    public static TheoryData<string> Events => new()
    {
        """{"event_id":"e1","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","user_id":"u","device_id":"d","payload":{"temperature":22.5,"humidity":65.0}}""",
        // Sub-millisecond time, no keys, metadata present, whitespace everywhere.
        """ { "event_id" : "e2", "timestamp" : "2024-01-15T10:30:00.1239999+02:00", "event_type" : "clickstream", "payload" : { "a" : [ 1 , 2.50 , -0 , 1e5 , true , null ] } , "metadata" : { "m" : "x y" } } """,
        // Escapes the general encoder rewrites: \u00e9, \/, \", a control character, a surrogate pair, HTML characters.
        """{"event_id":"e\u00e93","timestamp":"2024-01-15T10:30:00Z","event_type":"transaction","user_id":"\u00fc","payload":{"s\/":"a\"b\u0001\ud83d\ude00<>&'","\u0061b":"\u2028\u00e9é"},"metadata":{}}""",
        // Deep nesting, big integers, empty containers.
        """{"event_id":"e4","timestamp":"1970-01-01T00:00:00.0001Z","event_type":"iot.sensor","device_id":"d","payload":{"a":{"b":{"c":[[[{}]]]}},"n":123456789012345678901234567890,"e":[]}}""",
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void The_direct_encoding_is_byte_for_byte_the_general_encoders(string json)
    {
        var e = EventJsonReader.ReadSingle(Encoding.UTF8.GetBytes(json)).Result.Event;
        Assert.NotNull(e);
        foreach (var text in new[] { SeedAvroSchemas.Event, SeedAvroSchemas.EventWithMetadata })
        {
            var schema = AvroSchema.Parse(text);
            var direct = EventRecordEncoder.TryCreate(schema);
            Assert.NotNull(direct);

            var expected = new ArrayBufferWriter<byte>();
            using var document = JsonDocument.Parse(EventJsonWriter.ToUtf8Bytes(e));
            Assert.True(new AvroJsonEncoder(schema, EventEncoding).Encode(document.RootElement, expected).IsValid);
            var actual = new ArrayBufferWriter<byte>();
            direct.Encode(e, actual);

            Assert.Equal(Convert.ToHexString(expected.WrittenSpan), Convert.ToHexString(actual.WrittenSpan));
        }
    }

    [Theory]
    // A field the model does not have (even with a default), another type, a union in the other order: the general encoder keeps them.
    [InlineData("""{"type":"record","name":"E","fields":[{"name":"event_id","type":"string"},{"name":"region","type":"string","default":"eu"}]}""")]
    [InlineData("""{"type":"record","name":"E","fields":[{"name":"timestamp","type":{"type":"long","logicalType":"timestamp-micros"}}]}""")]
    [InlineData("""{"type":"record","name":"E","fields":[{"name":"user_id","type":["string","null"]}]}""")]
    [InlineData("""{"type":"record","name":"E","fields":[{"name":"payload","type":"bytes"}]}""")]
    [InlineData("\"string\"")]
    public void Other_schemas_are_left_to_the_general_encoder(string schema) =>
        Assert.Null(EventRecordEncoder.TryCreate(AvroSchema.Parse(schema)));
}
