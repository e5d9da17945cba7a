using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Processor.Input;

/// <summary>The outcome of classifying one consumed record: a valid event, or why it is not one.</summary>
public readonly record struct Classification(IngestEvent? Event, Rejection? Rejection)
{
    /// <summary>Whether the record holds a valid event (and only then goes downstream).</summary>
    public bool IsValid => Event is not null;

    internal static Classification Reject(RejectionReason reason, string message) => new(null, new Rejection(reason, message));
}

/// <summary>
/// The processor's validity filter (Property 7): decodes a consumed record (Confluent's wire format,
/// the writer's schema looked up by the id in its header) and judges the event by the rules the
/// gateway applies, including its time bounds, so that only valid events go downstream.
/// </summary>
/// <remarks>
/// <para>
/// Whatever the bytes, <see cref="ClassifyAsync"/> returns an event or a <see cref="Rejection"/>: it
/// does not throw for bad input, and every walk over the input is bounded (the Avro decoder checks
/// lengths against what is left, the event reader caps depth at 64). It does throw
/// <see cref="SchemaUnavailableException"/> when the registry cannot be asked, because an outage says
/// nothing about the record: the caller retries it with backoff (Property 5).
/// </para>
/// <para>
/// An Avro event of the seed's record shape that is plainly valid is read straight into the model;
/// anything else is decoded to the API's JSON and read by <see cref="EventJsonReader"/>, which
/// gives the exact reason. Thread-safe.
/// </para>
/// </remarks>
public sealed class EventClassifier(IWriterSchemaLookup schemas, EventTimeBounds bounds)
{
    /// <summary>Classifies <paramref name="record"/>; an accepted event slices its value.</summary>
    public async ValueTask<Classification> ClassifyAsync(ConsumedRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var value = record.Value;
        if (value is null || value.Length == 0)
        {
            return Classification.Reject(RejectionReason.NotWireFormat, "The record has no value: an event is in Confluent's wire format (magic byte 0, 4-byte schema id, then the body).");
        }

        if (!ConfluentWireFormat.TryReadHeader(value, out var id, out var offset, out var error))
        {
            return Classification.Reject(RejectionReason.NotWireFormat, error!);
        }

        SubjectSchema writer;
        try
        {
            writer = await schemas.ByIdAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (UnknownSchemaException)
        {
            return Classification.Reject(RejectionReason.UnknownSchema, $"The schema registry has no schema with id {id}.");
        }

        var body = value.AsMemory(offset);
        if (writer.EventDecoder is { } direct && direct.TryDecode(body, bounds) is { } fast)
        {
            return new Classification(fast, null);
        }

        byte[] json;
        try
        {
            if (writer.Decoder is { } decoder)
            {
                json = EventShape.FromAvro(decoder, body.Span);
            }
            else if (writer.Schema.Type == SchemaType.JSON)
            {
                json = body.ToArray();
            }
            else
            {
                return Classification.Reject(RejectionReason.Undecodable, $"Schema id {id} is a {writer.Schema.Type} schema; the processor reads Avro and JSON events.");
            }
        }
        catch (Exception ex) when (ex is AvroDecodeException or FormatException or JsonException or ArgumentException)
        {
            return Classification.Reject(RejectionReason.Undecodable, $"The body could not be decoded with schema id {id}: {ex.Message}");
        }

        return Judge(EventJsonReader.ReadSingle(json, bounds), id);
    }

    private static Classification Judge(SingleEventBody read, int id)
    {
        if (read.SyntaxError is { } syntax)
        {
            return Classification.Reject(RejectionReason.Undecodable, $"The body written with schema id {id} is not one JSON event: {syntax.Message}");
        }

        if (read.Result.Event is { } e)
        {
            return new Classification(e, null);
        }

        var problems = read.Result.Error!;
        var details = string.Join("; ", problems.InvalidFields.Select(f => $"{f.Key} {f.Value}"));
        var message = details.Length == 0 ? problems.Describe() : $"{problems.Describe()} ({details})";
        var onlyTheTime = problems.NotAnObject is null && problems.MissingFields.Count == 0
            && problems.InvalidFields.Count == 1 && problems.InvalidFields.ContainsKey("timestamp");
        return Classification.Reject(onlyTheTime ? RejectionReason.TimestampOutOfBounds : RejectionReason.InvalidEvent, message);
    }
}
