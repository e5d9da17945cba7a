using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using EventPlatform.Core.Events;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;

namespace EventPlatform.Benchmarks;

/// <summary>
/// What schema validation costs per event: the gateway's publish path minus HTTP and Kafka, for
/// each input format (the same event sent as JSON, Avro and Protobuf in Confluent's wire
/// format), and its pieces alone. The schema cache is warm, as it is after the first event.
/// </summary>
[MemoryDiagnoser]
public class SchemaValidationBenchmarks
{
    // Numbers that print the same after a trip through Protobuf's Struct (doubles: 65.0 comes back as 65).
    private static readonly byte[] Json = Encoding.UTF8.GetBytes("""
        {"event_id":"evt_123456","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor",
         "user_id":"user_789","device_id":"device_456","payload":{"temperature":22.5,"humidity":65.5},
         "metadata":{"source":"bench","firmware":"1.2.3"}}
        """);

    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private GatewayParts _gateway = null!;
    private byte[] _avro = null!;
    private byte[] _protobuf = null!;
    private JsonDocument _event = null!;
    private AvroJsonEncoder _encoder = null!;
    private JsonSchemaValidator _payloadValidator = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gateway = GatewayParts.Create();
        _event = JsonDocument.Parse(Json);
        var topicSchema = Await(_gateway.Schemas.LatestAsync(SeedRegistryStandIn.Topic + "-value"))!;
        _encoder = topicSchema.Encoder!;
        _payloadValidator = Await(_gateway.Schemas.LatestAsync("payload-iot.sensor"))!.Validator!;

        var avro = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(avro, topicSchema.Id);
        _encoder.Encode(_event.RootElement, avro);
        _avro = avro.WrittenSpan.ToArray();

        var protobufSchema = Await(_gateway.Schemas.LatestAsync(SeedRegistryStandIn.ProtobufSubject))!;
        var protobuf = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(protobuf, protobufSchema.Id);
        ProtobufMessageIndexes.Write([0], protobuf);
        ProtobufJsonTranscoder.Encode(_event.RootElement, ((ParsedProtobufSchema)protobufSchema.Schema).GetMessage([0]), protobuf);
        _protobuf = protobuf.WrittenSpan.ToArray();

        // Every format must reach Kafka as the same record, or the comparison means nothing.
        var fromJson = Json_body();
        if (!fromJson.AsSpan().SequenceEqual(Avro_body()) || !fromJson.AsSpan().SequenceEqual(Protobuf_body()))
        {
            throw new InvalidOperationException("The three formats did not encode to the same record value.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _event.Dispose();

    [Benchmark(Baseline = true)]
    public byte[] Json_body() => Gate(Json);

    [Benchmark]
    public byte[] Avro_body() => Gate(Decode(_avro, WireFormat.Avro));

    [Benchmark]
    public byte[] Protobuf_body() => Gate(Decode(_protobuf, WireFormat.Protobuf));

    [Benchmark]
    public byte[] Avro_decode_only() => Decode(_avro, WireFormat.Avro);

    [Benchmark]
    public byte[] Protobuf_decode_only() => Decode(_protobuf, WireFormat.Protobuf);

    [Benchmark]
    public IngestEvent Read_event_json_only() => EventJsonReader.ReadSingle(Json).Result.Event!;

    [Benchmark]
    public int Avro_encode_event_only()
    {
        _scratch.ResetWrittenCount();
        _encoder.Encode(_event.RootElement, _scratch);
        return _scratch.WrittenCount;
    }

    [Benchmark]
    public bool Validate_payload_only() => _payloadValidator.Validate(_event.RootElement.GetProperty("payload"u8)).IsValid;

    /// <summary>JSON to the record value, as the single-event route does after reading the body.</summary>
    private byte[] Gate(ReadOnlyMemory<byte> json)
    {
        var e = EventJsonReader.ReadSingle(json).Result.Event ?? throw new InvalidOperationException("The event was not read.");
        var outcome = Await(_gateway.Gate.EncodeAsync(SeedRegistryStandIn.Topic, e));
        return outcome.Value ?? throw new InvalidOperationException(outcome.Failure!.Message);
    }

    private byte[] Decode(byte[] body, WireFormat format)
    {
        var (json, failure) = Await(_gateway.Wire.DecodeAsync(body, format));
        return json ?? throw new InvalidOperationException(failure!.Message);
    }

    /// <summary>A warm cache completes synchronously: take the result without allocating a Task.</summary>
    private static T Await<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
