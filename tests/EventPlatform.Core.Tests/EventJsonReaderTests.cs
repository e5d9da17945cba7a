using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;

namespace EventPlatform.Core.Tests;

public class EventJsonReaderTests
{
    private static SingleEventBody Read(string json) => EventJsonReader.ReadSingle(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_the_seed_example_event()
    {
        var body = Read("""
            {"event_id":"evt_123456","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor",
             "user_id":"user_789","device_id":"device_456","payload":{"temperature":22.5,"humidity":65.0}}
            """);

        var e = Assert.IsType<IngestEvent>(body.Result.Event);
        Assert.Equal("evt_123456", e.EventId);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero), e.Timestamp);
        Assert.Equal("iot.sensor", e.EventType);
        Assert.Equal("user_789", e.PartitionKey);
        Assert.Equal("""{"temperature":22.5,"humidity":65.0}""", Encoding.UTF8.GetString(e.Payload.Span));
        Assert.True(e.Metadata.IsEmpty);
    }

    [Fact]
    public void Lists_every_missing_and_mistyped_field()
    {
        var body = Read("""{"event_id":5,"timestamp":"not a date","user_id":[],"payload":"x"}""");

        var error = Assert.IsType<EventValidationError>(body.Result.Error);
        Assert.Equal(["event_type"], error.MissingFields);
        Assert.Equal(["event_id", "payload", "timestamp", "user_id"], error.InvalidFields.Keys);
    }

    [Fact]
    public void Partition_key_is_user_id_else_device_id()
    {
        Assert.Equal("d1", Read("""{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"t","device_id":"d1","payload":{}}""").Result.Event!.PartitionKey);
        Assert.Equal("u1", Read("""{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"t","user_id":"u1","device_id":"d1","payload":{}}""").Result.Event!.PartitionKey);
        Assert.Null(Read("""{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"t","payload":{}}""").Result.Event!.PartitionKey);
    }

    [Theory]
    [InlineData("\"2024-01-15T10:30:00Z\"", "2024-01-15T10:30:00+00:00")]
    [InlineData("\"2024-01-15T12:30:00+02:00\"", "2024-01-15T10:30:00+00:00")]
    [InlineData("\"2024-01-15T10:30:00\"", "2024-01-15T10:30:00+00:00")]
    [InlineData("\"2024-01-15T10:30:00.123Z\"", "2024-01-15T10:30:00.1230000+00:00")]
    [InlineData("1705314600", "2024-01-15T10:30:00+00:00")]
    [InlineData("1705314600000", "2024-01-15T10:30:00+00:00")]
    public void Timestamps_are_read_as_UTC(string json, string expected)
    {
        var e = Read("{\"event_id\":\"e\",\"timestamp\":" + json + ",\"event_type\":\"t\",\"payload\":{}}").Result.Event!;
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), e.Timestamp);
        Assert.Equal(TimeSpan.Zero, e.Timestamp.Offset);
    }

    [Fact]
    public void A_field_given_twice_is_refused()
    {
        var error = Read("""{"event_id":"a","event_id":"b","timestamp":"2024-01-15T10:30:00Z","event_type":"t","payload":{}}""").Result.Error!;
        Assert.Equal("appears more than once", error.InvalidFields["event_id"]);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"event_id\":}")]
    [InlineData("")]
    [InlineData("{} {}")]
    [InlineData("[1,]")]
    public void Malformed_json_is_a_syntax_error(string json) =>
        Assert.NotNull(Read(json).SyntaxError);

    [Fact]
    public void Event_type_must_be_usable_in_a_topic_name()
    {
        var error = Read("""{"event_id":"e","timestamp":"2024-01-15T10:30:00Z","event_type":"a/b","payload":{}}""").Result.Error!;
        Assert.Contains("event_type", error.InvalidFields.Keys);
    }

    [Fact]
    public void Batch_judges_each_slot_on_its_own()
    {
        var batch = EventJsonReader.ReadBatch(Encoding.UTF8.GetBytes("""
            [{"event_id":"a","timestamp":"2024-01-15T10:30:00Z","event_type":"t","payload":{}}, 7, {"event_id":"c"}]
            """), maxEvents: 10);

        Assert.Null(batch.SyntaxError);
        Assert.Equal(3, batch.Results.Count);
        Assert.True(batch.Results[0].IsValid);
        Assert.NotNull(batch.Results[1].Error!.NotAnObject);
        Assert.Contains("payload", batch.Results[2].Error!.MissingFields);
    }

    [Fact]
    public void Batch_stops_at_the_limit()
    {
        var json = "[" + string.Join(",", Enumerable.Repeat("""{"event_id":"a","timestamp":1,"event_type":"t","payload":{}}""", 5)) + "]";
        Assert.True(EventJsonReader.ReadBatch(Encoding.UTF8.GetBytes(json), maxEvents: 4).TooMany);
        Assert.False(EventJsonReader.ReadBatch(Encoding.UTF8.GetBytes(json), maxEvents: 5).TooMany);
    }

    [Fact]
    public void Canonical_json_round_trips_every_field()
    {
        var e = Read("""{"event_id":"évt \"1\"","timestamp":"2024-01-15T12:30:00+02:00","event_type":"iot.sensor","device_id":"d","payload":{"a":[1,{"b":null}]},"metadata":{"m":true},"extra":1}""").Result.Event!;

        using var doc = JsonDocument.Parse(EventJsonWriter.ToUtf8Bytes(e));
        var root = doc.RootElement;
        Assert.Equal("évt \"1\"", root.GetProperty("event_id").GetString());
        Assert.Equal("2024-01-15T10:30:00Z", root.GetProperty("timestamp").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("user_id").ValueKind);
        Assert.Equal("d", root.GetProperty("device_id").GetString());
        Assert.Equal("""{"a":[1,{"b":null}]}""", root.GetProperty("payload").GetRawText());
        Assert.True(root.GetProperty("metadata").GetProperty("m").GetBoolean());
        Assert.False(root.TryGetProperty("extra", out _));
    }
}
