using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using EventPlatform.Core.Events;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas;

namespace EventPlatform.Benchmarks;

/// <summary>
/// From the bytes a client sent to the Kafka record value, per event, as the publish pipeline's read
/// and schema stages do it (time bounds on, warm schema cache): a JSON body, and an Avro body written
/// with the topic's latest schema. Issue 9 asked for each event to be decoded once and encoded once;
/// compare with an earlier commit, where the Avro case was <c>DecodeAsync</c> (Avro to JSON) then the event reader.
/// </summary>
[MemoryDiagnoser]
public class RecordValueBenchmarks
{
    private static readonly byte[] Json = Encoding.UTF8.GetBytes("""
        {"event_id":"evt_123456","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor",
         "user_id":"user_789","device_id":"device_456","payload":{"temperature":22.5,"humidity":65.5},
         "metadata":{"source":"bench","firmware":"1.2.3"}}
        """);

    private static readonly EventTimeBounds Bounds = new(TimeProvider.System, EventTimeBounds.DefaultMaxAhead);
    private GatewayParts _gateway = null!;
    private byte[] _avro = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gateway = GatewayParts.Create();
        var topicSchema = Await(_gateway.Schemas.LatestAsync(SeedRegistryStandIn.Topic + "-value"))!;
        using var document = JsonDocument.Parse(Json);
        var avro = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(avro, topicSchema.Id);
        topicSchema.Encoder!.Encode(document.RootElement, avro);
        _avro = avro.WrittenSpan.ToArray();
        if (!Json_to_record_value().AsSpan().SequenceEqual(Avro_to_record_value()))
        {
            throw new InvalidOperationException("JSON and Avro did not reach the same record value.");
        }
    }

    [Benchmark(Baseline = true)]
    public byte[] Json_to_record_value() => Encode(Json);

    [Benchmark]
    public byte[] Avro_to_record_value()
    {
        // As the pipeline reads a binary body: straight into the model when it can, else through its JSON.
        var read = Await(_gateway.Wire.ReadAsync(_avro, WireFormat.Avro, Bounds));
        return read.Event is { } e ? Encode(e) : Encode(read.Json ?? throw new InvalidOperationException(read.Failure!.Message));
    }

    private byte[] Encode(ReadOnlyMemory<byte> body) =>
        Encode(EventJsonReader.ReadSingle(body, Bounds).Result.Event ?? throw new InvalidOperationException("The event was not read."));

    private byte[] Encode(IngestEvent e)
    {
        var outcome = Await(_gateway.Gate.EncodeAsync(SeedRegistryStandIn.Topic, e));
        return outcome.Value ?? throw new InvalidOperationException(outcome.Failure!.Message);
    }

    private static T Await<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
