using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using EventPlatform.Core.Events;

namespace EventPlatform.Benchmarks;

/// <summary>
/// The gateway's per-event work: read an event from the request body and write the canonical
/// JSON that goes to Kafka. Baseline: what a straightforward implementation does, deserialize
/// into a model with System.Text.Json (source-generated) and serialize it back.
/// </summary>
[MemoryDiagnoser]
public class EventCodecBenchmarks
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""
        {"event_id":"evt_123456","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor",
         "user_id":"user_789","device_id":"device_456","payload":{"temperature":22.5,"humidity":65.0},
         "metadata":{"source":"bench","firmware":"1.2.3"}}
        """);

    [Benchmark(Baseline = true)]
    public byte[] Deserialize_and_serialize_with_a_model()
    {
        var model = JsonSerializer.Deserialize(Body, BaselineJsonContext.Default.BaselineEvent)!;
        return JsonSerializer.SerializeToUtf8Bytes(model, BaselineJsonContext.Default.BaselineEvent);
    }

    [Benchmark]
    public byte[] Read_and_write_canonical()
    {
        var e = EventJsonReader.ReadSingle(Body).Result.Event!;
        return EventJsonWriter.ToUtf8Bytes(e);
    }

    [Benchmark]
    public IngestEvent Read_only() => EventJsonReader.ReadSingle(Body).Result.Event!;

    // As the gateway reads client input: the timestamp judged against the clock as well.
    private static readonly EventTimeBounds Bounds = new(TimeProvider.System, EventTimeBounds.DefaultMaxAhead);

    [Benchmark]
    public IngestEvent Read_only_with_time_bounds() => EventJsonReader.ReadSingle(Body, Bounds).Result.Event!;
}

public sealed class BaselineEvent
{
    public string EventId { get; set; } = "";
    public DateTimeOffset Timestamp { get; set; }
    public string EventType { get; set; } = "";
    public string? UserId { get; set; }
    public string? DeviceId { get; set; }
    public JsonElement Payload { get; set; }
    public JsonElement? Metadata { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BaselineEvent))]
public sealed partial class BaselineJsonContext : JsonSerializerContext;
