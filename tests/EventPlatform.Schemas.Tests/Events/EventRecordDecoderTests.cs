using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Schemas.Events;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Schemas.Tests.Events;

/// <summary>
/// An Avro event read straight into the model, against the general way (decoded to JSON, reshaped,
/// read by the event reader): whatever the direct reader takes, it takes exactly as the general way
/// does; whatever it is not sure of, it leaves to the general way.
/// </summary>
public class EventRecordDecoderTests
{
    private static readonly AvroJsonEncoderOptions EventEncoding = AvroJsonEncoderOptions.Default with { AcceptTimestampStrings = true, JsonTextForStrings = false };
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2024, 1, 15, 12, 0, 0, TimeSpan.Zero));
    private static readonly EventTimeBounds Bounds = new(Clock, TimeSpan.FromHours(1), TimeSpan.FromDays(30));

    /// <summary>Avro records as a client's serializer writes them (payload and metadata as JSON text), and whether the direct reader takes them.</summary>
    public static TheoryData<string, bool> Records => new()
    {
        { """{"event_id":"e1","timestamp":1705314600123,"event_type":"iot.sensor","user_id":"u","device_id":null,"payload":"{\"temperature\":22.5,\"a\":[1,{\"b\":null}],\"s\":\"é\"}","metadata":null}""", true },
        { """{"event_id":"é","timestamp":1705314600000,"event_type":"clickstream","user_id":null,"device_id":"d","payload":"{}","metadata":"{\"m\":true}"}""", true },
        // An empty optional id is no id, as the event reader takes it.
        { """{"event_id":"e2","timestamp":1705314600000,"event_type":"iot.sensor","user_id":"","device_id":"d","payload":"{\"a\":1}","metadata":null}""", true },
        // Left to the general way: escapes, duplicate names, text around the object, an exponent, not an object, bad fields, bad times.
        { """{"event_id":"e3","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{\"a\\u0062\":1}","metadata":null}""", false },
        { """{"event_id":"e4","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{\"a\":1,\"a\":2}","metadata":null}""", false },
        { """{"event_id":"e5","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":" {\"a\":1}","metadata":null}""", false },
        { """{"event_id":"e6","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{\"a\":1e999}","metadata":null}""", false },
        { """{"event_id":"e7","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"[1]","metadata":null}""", false },
        { """{"event_id":"e8","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{\"a\":1}","metadata":"not json"}""", false },
        { """{"event_id":"","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", false },
        { """{"event_id":"e9","timestamp":1705314600000,"event_type":"x y","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", false },
        { """{"event_id":"e10","timestamp":-1,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", false },
        { """{"event_id":"e11","timestamp":1805314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", false },
        { """{"event_id":"e12","timestamp":1605314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", false },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void What_the_direct_reader_takes_the_general_way_reads_the_same(string record, bool direct)
    {
        var schema = AvroSchema.Parse(SeedAvroSchemas.EventWithMetadata);
        using var document = JsonDocument.Parse(record);
        var avro = new ArrayBufferWriter<byte>();
        Assert.True(new AvroJsonEncoder(schema, EventEncoding).Encode(document.RootElement, avro).IsValid);
        var datum = avro.WrittenMemory.ToArray();

        var fast = EventRecordDecoder.TryCreate(schema)!.TryDecode(datum, Bounds);
        var general = EventJsonReader.ReadSingle(EventShape.FromAvro(new AvroBinaryDecoder(schema), datum), Bounds).Result.Event;

        Assert.Equal(direct, fast is not null);
        if (fast is not null)
        {
            Assert.NotNull(general);
            Assert.Equal(Describe(general), Describe(fast));
        }
    }

    [Fact]
    public void Trailing_bytes_and_truncated_data_are_left_to_the_general_way()
    {
        var schema = AvroSchema.Parse(SeedAvroSchemas.EventWithMetadata);
        using var document = JsonDocument.Parse("""{"event_id":"e","timestamp":1705314600000,"event_type":"iot.sensor","user_id":null,"device_id":null,"payload":"{}","metadata":null}""");
        var avro = new ArrayBufferWriter<byte>();
        new AvroJsonEncoder(schema, EventEncoding).Encode(document.RootElement, avro);
        var decoder = EventRecordDecoder.TryCreate(schema)!;

        Assert.NotNull(decoder.TryDecode(avro.WrittenMemory.ToArray(), Bounds));
        Assert.Null(decoder.TryDecode((byte[])[.. avro.WrittenSpan, 0], Bounds));
        Assert.Null(decoder.TryDecode(avro.WrittenMemory[..^1].ToArray(), Bounds));
    }

    private static string Describe(IngestEvent e) =>
        $"{e.EventId}|{e.Timestamp:O}|{e.EventType}|{e.UserId}|{e.DeviceId}|{Encoding.UTF8.GetString(e.Payload.Span)}|{Encoding.UTF8.GetString(e.Metadata.Span)}";
}
