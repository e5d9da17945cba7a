using System.Buffers;
using System.Diagnostics;
using System.Text;
using EventPlatform.Processor.Input;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using FsCheck.Xunit;
using static EventPlatform.Processor.Tests.TestRecords;

namespace EventPlatform.Processor.Tests;

/// <summary>
/// Property 7 on hostile input: whatever the bytes, the classifier returns at once with an event or a
/// rejection with its reason, and only valid events pass.
/// </summary>
public class InvalidEventFilteringProperties
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(2);

    private static readonly byte[] ValidEventId = "e1"u8.ToArray();
    private static readonly byte[] ValidType = "iot.sensor"u8.ToArray();
    private static readonly byte[] ValidPayload = """{"temperature":21.5}"""u8.ToArray();
    private static readonly long ValidMillis = Now.AddMinutes(-1).ToUnixTimeMilliseconds();

    /// <summary>A seed Avro record written field by field, so strings can hold any bytes and lengths can lie.</summary>
    private static byte[] RawRecord(byte[] eventId, long millis, byte[] eventType, byte[]? userId, byte[] payload, int schemaId = EventSchemaId)
    {
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, schemaId);
        AvroBinaryWriter.WriteString(output, eventId.AsSpan());
        AvroBinaryWriter.WriteLong(output, millis);
        AvroBinaryWriter.WriteString(output, eventType.AsSpan());
        if (userId is null)
        {
            AvroBinaryWriter.WriteUnionIndex(output, 0);
        }
        else
        {
            AvroBinaryWriter.WriteUnionIndex(output, 1);
            AvroBinaryWriter.WriteString(output, userId.AsSpan());
        }

        AvroBinaryWriter.WriteUnionIndex(output, 0);
        AvroBinaryWriter.WriteString(output, payload.AsSpan());
        AvroBinaryWriter.WriteUnionIndex(output, 0);
        return output.WrittenSpan.ToArray();
    }

    private static Rejection Rejected(byte[]? value)
    {
        var clock = Stopwatch.StartNew();
        var result = Classify(value);
        Assert.True(clock.Elapsed < Quick, $"Classification took {clock.Elapsed}.");
        Assert.False(result.IsValid);
        Assert.NotNull(result.Rejection);
        Assert.True(Enum.IsDefined(result.Rejection.Reason));
        Assert.False(string.IsNullOrWhiteSpace(result.Rejection.Message));
        return result.Rejection;
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // For any stream of events containing both valid and invalid events, the Stream Processor should
    // emit only the valid events to downstream topics. Here: random bytes, framed or not.
    [Property(MaxTest = 300)]
    public void Property_7_random_bytes_are_rejected_with_a_reason(byte[] bytes, bool framed)
    {
        bytes ??= [];
        var value = framed ? [0, 0, 0, 0, EventSchemaId, .. bytes] : bytes;

        var rejection = Rejected(value);

        if (!framed && (bytes.Length < ConfluentWireFormat.HeaderLength || bytes[0] != 0))
        {
            Assert.Equal(RejectionReason.NotWireFormat, rejection.Reason);
        }
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // Every proper prefix of a valid record (a truncated message) is rejected.
    [Property(MaxTest = 200)]
    public void Property_7_truncated_wire_format_is_rejected(int seed)
    {
        var random = new Random(seed);
        var whole = RawRecord(ValidEventId, ValidMillis, ValidType, random.Next(2) == 0 ? null : "user-1"u8.ToArray(), ValidPayload);
        Assert.True(Classify(whole).IsValid);

        var cut = random.Next(0, whole.Length);
        var rejection = Rejected(whole[..cut]);

        Assert.Equal(cut < ConfluentWireFormat.HeaderLength ? RejectionReason.NotWireFormat : RejectionReason.Undecodable, rejection.Reason);
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // A schema id the registry does not know rejects the record whatever follows.
    [Property(MaxTest = 200)]
    public void Property_7_unknown_schema_ids_are_rejected(int schemaId, byte[] body)
    {
        if (schemaId == EventSchemaId)
        {
            return;
        }

        var value = new byte[ConfluentWireFormat.HeaderLength + (body?.Length ?? 0)];
        ConfluentWireFormat.WriteHeader(value, schemaId);
        body?.CopyTo(value, ConfluentWireFormat.HeaderLength);

        Assert.Equal(RejectionReason.UnknownSchema, Rejected(value).Reason);
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // Invalid UTF-8 in any string field (id, type, user, payload) rejects the event.
    [Property(MaxTest = 200)]
    public void Property_7_invalid_utf8_in_strings_is_rejected(int seed)
    {
        var random = new Random(seed);
        byte[][] broken = [[0xC3], [0xFF, 0x61], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]];
        var bad = broken[random.Next(broken.Length)];
        var value = random.Next(4) switch
        {
            0 => RawRecord([.. "e"u8, .. bad], ValidMillis, ValidType, null, ValidPayload),
            1 => RawRecord(ValidEventId, ValidMillis, [.. "iot."u8, .. bad], null, ValidPayload),
            2 => RawRecord(ValidEventId, ValidMillis, ValidType, [.. bad, .. "u"u8], ValidPayload),
            _ => RawRecord(ValidEventId, ValidMillis, ValidType, null, [.. """{"s":" """u8, .. bad, .. "\"}"u8]),
        };

        Assert.Contains(Rejected(value).Reason, (RejectionReason[])[RejectionReason.Undecodable, RejectionReason.InvalidEvent]);
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // A length prefix far beyond the message (or negative) is refused at once, with nothing allocated for it.
    [Property(MaxTest = 200)]
    public void Property_7_huge_and_negative_lengths_are_rejected(int seed)
    {
        var random = new Random(seed);
        var length = random.Next(3) switch
        {
            0 => random.NextInt64(1_000, long.MaxValue),
            1 => -random.NextInt64(1, long.MaxValue),
            _ => int.MaxValue,
        };
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, EventSchemaId);
        if (random.Next(2) == 0)
        {
            AvroBinaryWriter.WriteLong(output, length);
        }
        else
        {
            // A valid id and timestamp, then the lie in the event type's length.
            AvroBinaryWriter.WriteString(output, ValidEventId.AsSpan());
            AvroBinaryWriter.WriteLong(output, ValidMillis);
            AvroBinaryWriter.WriteLong(output, length);
        }

        output.Write("abc"u8);

        Assert.Equal(RejectionReason.Undecodable, Rejected(output.WrittenSpan.ToArray()).Reason);
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // Payload JSON nested past the event reader's depth is rejected without exhausting the stack; shallow nesting passes.
    [Property(MaxTest = 100)]
    public void Property_7_deeply_nested_payloads_are_rejected(int seed)
    {
        var random = new Random(seed);
        var depth = random.Next(2) == 0 ? random.Next(70, 200_000) : random.Next(1, 40);
        var (open, close) = random.Next(2) == 0 ? ("{\"a\":", '}') : ("[", ']');
        var json = new StringBuilder("{\"v\":").Insert(5, open, depth).Append('1').Append(close, depth).Append('}');
        var payload = Encoding.UTF8.GetBytes(json.ToString());

        var value = RawRecord(ValidEventId, ValidMillis, ValidType, null, payload);
        var clock = Stopwatch.StartNew();
        var result = Classify(value);

        Assert.True(clock.Elapsed < Quick, $"Classification took {clock.Elapsed}.");
        if (depth < 40)
        {
            Assert.True(result.IsValid, result.Rejection?.Message);
        }
        else
        {
            Assert.False(result.IsValid);
            Assert.Contains(result.Rejection!.Reason, (RejectionReason[])[RejectionReason.Undecodable, RejectionReason.InvalidEvent]);
        }
    }

    private enum Kind
    {
        Valid,
        EmptyId,
        BadType,
        FarFuture,
        Year9999,
        PayloadNotObject,
        Truncated,
        NotFramed,
        UnknownId,
    }

    // Feature: kafka-event-streaming-platform, Property 7: Invalid event filtering
    // For a random mix of valid and invalid events encoded with the seed's Avro schema, exactly the
    // valid ones pass, in order, and each invalid one is rejected for its own reason.
    [Property(MaxTest = 200)]
    public void Property_7_only_valid_events_pass_the_filter(int seed)
    {
        var random = new Random(seed);
        var kinds = Enum.GetValues<Kind>();
        var stream = Enumerable.Range(0, random.Next(0, 40)).Select(i => (Id: $"e{i}", Kind: random.Next(3) == 0 ? Kind.Valid : kinds[random.Next(kinds.Length)])).ToList();

        var passed = new List<string>();
        foreach (var (id, kind) in stream)
        {
            var result = Classify(Build(random, id, kind));
            if (result.Event is { } e)
            {
                passed.Add(e.EventId);
            }
            else
            {
                Assert.Equal(Expected(kind), result.Rejection!.Reason);
            }
        }

        Assert.Equal(stream.Where(s => s.Kind == Kind.Valid).Select(s => s.Id), passed);
    }

    private static byte[] Build(Random random, string id, Kind kind)
    {
        var at = Now.AddSeconds(-random.Next(0, 86_400));
        var user = random.Next(2) == 0 ? "null" : $"\"user-{random.Next(5)}\"";
        string Json(string eventId, string timestamp, string type, string payload) =>
            $$"""{"event_id":"{{eventId}}","timestamp":"{{timestamp}}","event_type":"{{type}}","user_id":{{user}},"device_id":null,"payload":{{payload}},"metadata":null}""";
        var time = at.ToString("O");
        var valid = Json(id, time, "iot.sensor", $$"""{"temperature":{{random.Next(-40, 50)}}}""");
        return kind switch
        {
            Kind.Valid => Encode(valid),
            Kind.EmptyId => Encode(Json("", time, "iot.sensor", "{}")),
            Kind.BadType => Encode(Json(id, time, "iot sensor!", "{}")),
            Kind.FarFuture => Encode(Json(id, Now.AddHours(2).ToString("O"), "iot.sensor", "{}")),
            Kind.Year9999 => Encode(Json(id, "9999-06-01T00:00:00Z", "iot.sensor", "{}")),
            Kind.PayloadNotObject => Encode(Json(id, time, "iot.sensor", "\"[1,2]\"")),
            Kind.Truncated => Encode(valid)[..^1],
            Kind.NotFramed => Encoding.UTF8.GetBytes(valid),
            Kind.UnknownId => Encode(valid, schemaId: EventSchemaId + 1 + random.Next(1000)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static RejectionReason Expected(Kind kind) => kind switch
    {
        Kind.EmptyId or Kind.BadType or Kind.PayloadNotObject => RejectionReason.InvalidEvent,
        Kind.FarFuture or Kind.Year9999 => RejectionReason.TimestampOutOfBounds,
        Kind.Truncated => RejectionReason.Undecodable,
        Kind.NotFramed => RejectionReason.NotWireFormat,
        Kind.UnknownId => RejectionReason.UnknownSchema,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
