using System.Buffers;
using System.Text.Json;
using EventPlatform.Processor.Output;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using EventPlatform.Sink.Transformation;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Sink.Tests;

/// <summary>The seed's event schema and the aggregated schema under known ids, a fixed clock, and records as producers write them.</summary>
internal static class SinkTestRecords
{
    public const int EventSchemaId = 7;
    public const int AggregateSchemaId = 8;

    public static readonly DateTimeOffset Now = new(2024, 1, 15, 12, 0, 0, TimeSpan.Zero);

    public static SubjectSchema EventSchema { get; } = new(null, EventSchemaId, 0, AvroFormat.Instance.Parse(SeedAvroSchemas.EventWithMetadata, []));

    public static SubjectSchema AggregateSchema { get; } = new(null, AggregateSchemaId, 0, AvroFormat.Instance.Parse(AggregatedEventSchema.Avro, []));

    public static SinkTransformer Transformer() => new(new Lookup(), new FakeTimeProvider(Now));

    /// <summary>An event in the API's JSON as the seed's Avro record in the wire format.</summary>
    public static byte[] EncodeEvent(string eventJson, int? schemaId = null) => Encode(EventSchema, eventJson, schemaId);

    /// <summary>An aggregated event in JSON (timestamps as epoch milliseconds) as the processor's Avro record.</summary>
    public static byte[] EncodeAggregate(string json, int? schemaId = null) => Encode(AggregateSchema, json, schemaId);

    /// <summary>A valid seed event in the API's JSON.</summary>
    public static string EventJson(string eventId) =>
        $$$"""{"event_id":"{{{eventId}}}","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor","device_id":"device_456","payload":{"temperature":22.5}}""";

    public static TransformOutcome Transform(string topic, byte[]? value, long offset = 42)
    {
        var task = Transformer().TransformAsync(new RecordPosition(topic, 3, offset), value, CancellationToken.None);
        Assert.True(task.IsCompleted, "An in-memory lookup never waits.");
        return task.Result;
    }

    private static byte[] Encode(SubjectSchema schema, string json, int? schemaId)
    {
        using var document = JsonDocument.Parse(json);
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, schemaId ?? schema.Id);
        var result = schema.Encoder!.Encode(document.RootElement, output);
        if (!result.IsValid)
        {
            throw new ArgumentException("Does not match the schema: " + json, nameof(json));
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed class Lookup : ISinkSchemaLookup
    {
        public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken) => id switch
        {
            EventSchemaId => new(EventSchema),
            AggregateSchemaId => new(AggregateSchema),
            _ => throw new UnknownSchemaException(id),
        };
    }
}
