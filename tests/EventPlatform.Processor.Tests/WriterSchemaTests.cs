using EventPlatform.Core.Events;
using EventPlatform.Processor.Input;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;
using Microsoft.Extensions.Time.Testing;
using static EventPlatform.Processor.Tests.TestRecords;

namespace EventPlatform.Processor.Tests;

/// <summary>The writer's schema: JSON bodies are read, other types refused, and a registry outage is not the record's fault.</summary>
public class WriterSchemaTests
{
    private const int JsonId = 11;
    private const int ProtoId = 12;

    private static EventClassifier With(IWriterSchemaLookup lookup) =>
        new(lookup, new EventTimeBounds(new FakeTimeProvider(Now), EventTimeBounds.DefaultMaxAhead));

    private static Classification Classify(IWriterSchemaLookup lookup, byte[] value)
    {
        var task = With(lookup).ClassifyAsync(Record(value), CancellationToken.None);
        Assert.True(task.IsCompleted);
        return task.Result;
    }

    private static byte[] Framed(int id, ReadOnlySpan<byte> body)
    {
        var value = new byte[ConfluentWireFormat.HeaderLength + body.Length];
        ConfluentWireFormat.WriteHeader(value, id);
        body.CopyTo(value.AsSpan(ConfluentWireFormat.HeaderLength));
        return value;
    }

    private static DictionaryLookup Lookup() => new(new Dictionary<int, SubjectSchema>
    {
        [JsonId] = new(null, JsonId, 0, JsonSchemaFormat.Instance.Parse("""{"type":"object"}""", [])),
        [ProtoId] = new(null, ProtoId, 0, ProtobufFormat.Instance.Parse("syntax = \"proto3\"; message E { string event_id = 1; }", [])),
    });

    [Fact]
    public void A_json_event_under_a_json_schema_is_read_by_the_event_reader()
    {
        var accepted = Classify(Lookup(), Framed(JsonId, """{"event_id":"j1","timestamp":"2024-01-15T11:00:00Z","event_type":"transaction","payload":{"amount":3}}"""u8));
        var malformed = Classify(Lookup(), Framed(JsonId, """{"event_id":"j1","""u8));

        Assert.Equal("j1", accepted.Event!.EventId);
        Assert.Equal(RejectionReason.Undecodable, malformed.Rejection!.Reason);
    }

    [Fact]
    public void A_protobuf_writer_schema_is_refused_as_undecodable()
    {
        var result = Classify(Lookup(), Framed(ProtoId, [10, 1, 65]));

        Assert.Equal(RejectionReason.Undecodable, result.Rejection!.Reason);
        Assert.Contains("PROTOBUF", result.Rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_outage_is_thrown_for_the_caller_to_retry_not_rejected()
    {
        var classifier = With(new Unavailable());

        await Assert.ThrowsAsync<SchemaUnavailableException>(async () => await classifier.ClassifyAsync(Record(Encode("""{"event_id":"e","timestamp":"2024-01-15T11:00:00Z","event_type":"iot.sensor","payload":{}}""")), CancellationToken.None));
    }

    private sealed class Unavailable : IWriterSchemaLookup
    {
        public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken) =>
            ValueTask.FromException<SubjectSchema>(new SchemaUnavailableException("registry down", null));
    }
}
