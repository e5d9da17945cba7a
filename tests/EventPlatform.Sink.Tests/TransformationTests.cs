using System.Text;
using System.Text.Json;
using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Tests;

public sealed class TransformationTests
{
    [Fact]
    public void An_avro_event_becomes_an_events_row_with_payload_and_metadata_as_json_and_ingestion_time_set()
    {
        var value = SinkTestRecords.EncodeEvent("""
            {"event_id":"evt_1","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","user_id":"user_789","device_id":"device_456",
             "payload":{"temperature":22.5,"humidity":65.0},"metadata":{"source":"test"}}
            """);

        var row = Assert.IsType<EventRow>(SinkTestRecords.Transform("events.iot.sensors", value).Row);

        Assert.Equal("evt_1", row.EventId);
        Assert.Equal(new DateTime(2024, 1, 15, 10, 30, 0, DateTimeKind.Utc), row.Timestamp);
        Assert.Equal("iot.sensor", row.EventType);
        Assert.Equal("user_789", row.UserId);
        Assert.Equal("device_456", row.DeviceId);
        Assert.Equal(22.5, JsonDocument.Parse(row.Payload).RootElement.GetProperty("temperature").GetDouble());
        Assert.Equal("test", JsonDocument.Parse(row.Metadata!).RootElement.GetProperty("source").GetString());
        Assert.Equal(SinkTestRecords.Now.UtcDateTime, row.IngestionTime);
        Assert.Equal(new RecordPosition("events.iot.sensors", 3, 42), row.Source);
    }

    [Fact]
    public void An_aggregated_record_becomes_an_aggregated_events_row_with_its_window_identity()
    {
        var value = SinkTestRecords.EncodeAggregate("""
            {"window_start":1705312800000,"window_end":1705313100000,"event_type":"iot.sensor","count":3,"sum_value":66.0,"avg_value":22.0,
             "min_value":21.0,"max_value":23.0,"distinct_users":2,"window_kind":"tumbling","window_size_ms":300000,"window_slide_ms":300000,
             "window_key":null,"is_update":true,"processed_time":1705313101000}
            """);

        var row = Assert.IsType<AggregatedEventRow>(SinkTestRecords.Transform("events.aggregated", value).Row);

        Assert.Equal(new DateTime(2024, 1, 15, 10, 0, 0, DateTimeKind.Utc), row.WindowStart);
        Assert.Equal(3, row.Count);
        Assert.Equal(22.0, row.AvgValue);
        Assert.Equal("tumbling", row.WindowKind);
        Assert.Equal(300_000, row.WindowSizeMs);
        Assert.Equal("", row.WindowKey);
        Assert.True(row.IsUpdate);
    }

    [Theory]
    [InlineData(new byte[0], TransformErrorTypes.NotWireFormat)]
    [InlineData(new byte[] { 0, 0, 0 }, TransformErrorTypes.NotWireFormat)]
    [InlineData(new byte[] { 0, 0, 0, 0, 99, 1, 2 }, TransformErrorTypes.UnknownSchema)]
    [InlineData(new byte[] { 0, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF }, TransformErrorTypes.Undecodable)]
    public void A_record_that_cannot_be_transformed_is_a_failure_with_its_kind_never_a_row(byte[] value, string errorType)
    {
        var outcome = SinkTestRecords.Transform("events.iot.sensors", value);

        Assert.Null(outcome.Row);
        Assert.Equal(errorType, outcome.ErrorType);
    }

    [Fact]
    public void A_plain_json_event_missing_a_required_field_is_refused()
    {
        var outcome = SinkTestRecords.Transform("events.clickstream", Encoding.UTF8.GetBytes("""{"event_id":"e","event_type":"clickstream","payload":{}}"""));

        Assert.Equal(TransformErrorTypes.InvalidEvent, outcome.ErrorType);
    }

    [Fact]
    public void An_aggregate_missing_its_window_is_refused()
    {
        // Written with the event schema: a record, but not an aggregate.
        var value = SinkTestRecords.EncodeEvent("""{"event_id":"evt_1","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","payload":{"t":1}}""");

        var outcome = SinkTestRecords.Transform("events.aggregated", value);

        Assert.Equal(TransformErrorTypes.InvalidAggregate, outcome.ErrorType);
    }
}
