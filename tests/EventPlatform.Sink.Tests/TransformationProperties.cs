using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Sink.Transformation;
using FsCheck.Xunit;
using static EventPlatform.Sink.Tests.SinkTestRecords;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// Property 14 against a plain model: the row holds exactly the event's fields, every required
/// column filled; and on hostile input (the fuzz cases) the transformation answers at once with a
/// row or a failure, never an exception and never a half-filled row.
/// </summary>
public sealed class TransformationProperties
{
    private static readonly string[] Types = ["iot.sensor", "clickstream", "transaction"];
    private static readonly string[] Topics = ["events.iot.sensors", "events.clickstream", "events.transactions"];

    // Feature: kafka-event-streaming-platform, Property 14: Snowflake transformation correctness
    // For any message received by the Snowflake Sink, the transformed message should contain all
    // required fields for the target Snowflake table schema.
    [Property(MaxTest = 200)]
    public void Property_14_every_event_becomes_a_row_with_every_required_column(int seed)
    {
        var random = new Random(seed);
        var model = RandomEvent(random);
        var topic = Topics[random.Next(Topics.Length)];
        var offset = random.NextInt64(0, long.MaxValue - 1);
        var value = random.Next(2) == 0 ? EncodeEvent(model.ToJsonString()) : Encoding.UTF8.GetBytes(model.ToJsonString());

        var outcome = Transform(topic, value, offset);

        var row = Assert.IsType<EventRow>(outcome.Row);
        Assert.Equal((string)model["event_id"]!, row.EventId);
        Assert.Equal(DateTimeOffset.Parse((string)model["timestamp"]!, CultureInfo.InvariantCulture).UtcDateTime, row.Timestamp);
        Assert.Equal((string)model["event_type"]!, row.EventType);
        Assert.Equal((string?)model["user_id"], row.UserId);
        Assert.Equal((string?)model["device_id"], row.DeviceId);
        Assert.True(JsonNode.DeepEquals(model["payload"], JsonNode.Parse(row.Payload)), row.Payload);
        Assert.True(model["metadata"] is null ? row.Metadata is null : JsonNode.DeepEquals(model["metadata"], JsonNode.Parse(row.Metadata!)));
        Assert.Equal(Now.UtcDateTime, row.IngestionTime);
        Assert.Equal(new RecordPosition(topic, 3, offset), row.Source);
        Assert.Same(value, row.OriginalMessage);
    }

    // Feature: kafka-event-streaming-platform, Property 14: Snowflake transformation correctness
    // For any aggregated event, the aggregated_events row holds every column, with the window identity.
    [Property(MaxTest = 200)]
    public void Property_14_every_aggregate_becomes_a_row_with_every_required_column(int seed)
    {
        var random = new Random(seed);
        var start = random.NextInt64(0, 4_000_000_000_000);
        var size = random.NextInt64(1, 86_400_000);
        var hasFigures = random.Next(2) == 0;
        var key = random.Next(3) == 0 ? "user_" + random.Next(100) : null;
        var json = new JsonObject
        {
            ["window_start"] = start,
            ["window_end"] = start + size,
            ["event_type"] = Types[random.Next(Types.Length)],
            ["count"] = random.NextInt64(1, 1_000_000),
            ["sum_value"] = hasFigures ? random.NextDouble() * 1000 : null,
            ["avg_value"] = hasFigures ? random.NextDouble() : null,
            ["min_value"] = hasFigures ? -random.NextDouble() : null,
            ["max_value"] = hasFigures ? random.NextDouble() * 10 : null,
            ["distinct_users"] = random.NextInt64(0, 1000),
            ["window_kind"] = random.Next(2) == 0 ? "tumbling" : "session",
            ["window_size_ms"] = size,
            ["window_slide_ms"] = size,
            ["window_key"] = key,
            ["is_update"] = random.Next(2) == 0,
            ["processed_time"] = start + size + 1,
        };

        var row = Assert.IsType<AggregatedEventRow>(Transform("events.aggregated", EncodeAggregate(json.ToJsonString())).Row);

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(start).UtcDateTime, row.WindowStart);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(start + size).UtcDateTime, row.WindowEnd);
        Assert.Equal((string)json["event_type"]!, row.EventType);
        Assert.Equal((long)json["count"]!, row.Count);
        Assert.Equal((double?)json["sum_value"], row.SumValue);
        Assert.Equal((double?)json["max_value"], row.MaxValue);
        Assert.Equal((long)json["distinct_users"]!, row.DistinctUsers);
        Assert.Equal((string)json["window_kind"]!, row.WindowKind);
        Assert.Equal(size, row.WindowSizeMs);
        Assert.Equal(key ?? "", row.WindowKey);
        Assert.Equal((bool)json["is_update"]!, row.IsUpdate);
    }

    // Feature: kafka-event-streaming-platform, Property 14: Snowflake transformation correctness
    // Fuzz: random bytes, framed with a known schema id or not, on either kind of topic: a row or a failure, at once.
    [Property(MaxTest = 300)]
    public void Property_14_random_bytes_give_a_row_or_a_failure_never_an_exception(byte[] bytes, bool framed, bool aggregated)
    {
        bytes ??= [];
        byte[] value = framed ? [0, 0, 0, 0, (byte)(aggregated ? AggregateSchemaId : EventSchemaId), .. bytes] : bytes;

        var outcome = Quickly(aggregated ? "events.aggregated" : "events.iot.sensors", value);

        AssertWholeOrFailed(outcome);
    }

    // Feature: kafka-event-streaming-platform, Property 14: Snowflake transformation correctness
    // Fuzz: hostile payloads (invalid UTF-8, lone surrogates, deep nesting, huge values) go to the DLQ or
    // make a row whose JSON columns parse; nothing throws, nothing overflows the stack.
    [Property(MaxTest = 100)]
    public void Property_14_hostile_payloads_never_crash_the_transformation(int seed)
    {
        var random = new Random(seed);
        byte[] payload = random.Next(6) switch
        {
            0 => [.. """{"s":" """u8, .. Pick(random, [[0xC3], [0xFF, 0x61], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]), .. "\"}"u8],
            1 => Encoding.UTF8.GetBytes("""{"s":"\ud800 lone"}"""),
            2 => Encoding.UTF8.GetBytes(new string('[', 10_000 + random.Next(100_000)) + new string(']', 10_000)),
            3 => Encoding.UTF8.GetBytes("{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 70 + random.Next(1000))) + "1" + new string('}', 1071) + "}"),
            4 => Encoding.UTF8.GetBytes("{\"big\":\"" + new string('x', 1_000_000 + random.Next(4_000_000)) + "\"}"),
            _ => Encoding.UTF8.GetBytes("{\"n\":1e999999,\"m\":" + new string('9', 5000) + "}"),
        };
        var asAvro = random.Next(2) == 0;
        var value = asAvro ? RawEvent(payload) : PlainEvent(payload);

        AssertWholeOrFailed(Quickly("events.iot.sensors", value));
    }

    private static TransformOutcome Quickly(string topic, byte[] value)
    {
        var clock = Stopwatch.StartNew();
        var outcome = Transform(topic, value);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The transformation took {clock.Elapsed}.");
        return outcome;
    }

    private static void AssertWholeOrFailed(TransformOutcome outcome)
    {
        if (outcome.Row is EventRow row)
        {
            Assert.False(string.IsNullOrEmpty(row.EventId));
            Assert.False(string.IsNullOrEmpty(row.EventType));
            using var payload = JsonDocument.Parse(row.Payload, new JsonDocumentOptions { MaxDepth = 128 });
            Assert.Equal(JsonValueKind.Object, payload.RootElement.ValueKind);
            Assert.Null(outcome.ErrorType);
        }
        else if (outcome.Row is AggregatedEventRow aggregate)
        {
            Assert.False(string.IsNullOrEmpty(aggregate.EventType));
            Assert.False(string.IsNullOrEmpty(aggregate.WindowKind));
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(outcome.ErrorType));
            Assert.False(string.IsNullOrWhiteSpace(outcome.ErrorMessage));
        }
    }

    private static byte[] Pick(Random random, byte[][] choices) => choices[random.Next(choices.Length)];

    /// <summary>A seed Avro event written field by field, so the payload text can be any bytes.</summary>
    private static byte[] RawEvent(byte[] payload)
    {
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, EventSchemaId);
        AvroBinaryWriter.WriteString(output, "evt_fuzz"u8);
        AvroBinaryWriter.WriteLong(output, Now.ToUnixTimeMilliseconds());
        AvroBinaryWriter.WriteString(output, "iot.sensor"u8);
        AvroBinaryWriter.WriteUnionIndex(output, 0);
        AvroBinaryWriter.WriteUnionIndex(output, 0);
        AvroBinaryWriter.WriteString(output, payload.AsSpan());
        AvroBinaryWriter.WriteUnionIndex(output, 0);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] PlainEvent(byte[] payload) =>
        [.. """{"event_id":"evt_fuzz","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":"""u8, .. payload, .. "}"u8];

    private static JsonObject RandomEvent(Random random)
    {
        var payload = new JsonObject();
        for (var i = random.Next(1, 6); i > 0; i--)
        {
            payload["k" + random.Next(1000)] = random.Next(4) switch
            {
                0 => JsonValue.Create(Math.Round(random.NextDouble() * 100, 3)),
                1 => JsonValue.Create("v\u00e9\u4e2d" + random.Next()),
                2 => new JsonObject { ["nested"] = random.Next() },
                _ => new JsonArray(1, 2, random.Next()),
            };
        }

        var type = Types[random.Next(Types.Length)];
        var timestamp = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(random.NextInt64(0, 30L * 24 * 3600 * 1000));
        return new JsonObject
        {
            ["event_id"] = "evt_" + random.Next() + "_" + random.Next(),
            ["timestamp"] = timestamp.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["event_type"] = type,
            ["user_id"] = random.Next(2) == 0 ? null : "user_" + random.Next(),
            ["device_id"] = random.Next(2) == 0 ? null : "device_" + random.Next(),
            ["payload"] = payload,
            ["metadata"] = random.Next(2) == 0 ? null : new JsonObject { ["source"] = "test" },
        };
    }
}
