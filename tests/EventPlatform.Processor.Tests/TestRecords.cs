using System.Buffers;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Processor.Input;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Processor.Tests;

/// <summary>The seed's event schema under a known id, a fixed clock, and records encoded as producers write them.</summary>
internal static class TestRecords
{
    public const int EventSchemaId = 7;
    public const string Topic = "iot.sensor";

    public static readonly DateTimeOffset Now = new(2024, 1, 15, 12, 0, 0, TimeSpan.Zero);

    public static SubjectSchema EventSchema { get; } = new(null, EventSchemaId, 0, AvroFormat.Instance.Parse(SeedAvroSchemas.EventWithMetadata, []));

    public static DictionaryLookup Lookup { get; } = new(new Dictionary<int, SubjectSchema> { [EventSchemaId] = EventSchema });

    public static EventClassifier Classifier() => new(Lookup, new EventTimeBounds(new FakeTimeProvider(Now), EventTimeBounds.DefaultMaxAhead));

    /// <summary>An event in the API's JSON (payload as an object, ISO timestamp) as the seed's Avro record in the wire format.</summary>
    public static byte[] Encode(string eventJson, int schemaId = EventSchemaId)
    {
        using var document = JsonDocument.Parse(eventJson);
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, schemaId);
        var result = EventSchema.Encoder!.Encode(document.RootElement, output);
        if (!result.IsValid)
        {
            throw new ArgumentException("Not an event of the seed's schema: " + eventJson, nameof(eventJson));
        }

        return output.WrittenSpan.ToArray();
    }

    public static ConsumedRecord Record(byte[]? value, long offset = 42) =>
        new(Topic, 3, offset, null, value, [], Now);

    /// <summary>Classifies synchronously: with an in-memory lookup nothing may wait, so a pending task is a failure.</summary>
    public static Classification Classify(byte[]? value)
    {
        var task = Classifier().ClassifyAsync(Record(value), CancellationToken.None);
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("Classification waited on something with an in-memory schema lookup.");
        }

        return task.Result;
    }

    public sealed class DictionaryLookup(IReadOnlyDictionary<int, SubjectSchema> schemas) : IWriterSchemaLookup
    {
        public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken) =>
            schemas.TryGetValue(id, out var schema) ? new(schema) : throw new UnknownSchemaException(id);
    }
}
