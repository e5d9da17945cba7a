using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Gateway.Schemas;

/// <summary>The binary input formats (Property 3), each in Confluent's wire format.</summary>
public enum WireFormat
{
    /// <summary>Magic byte, schema id, Avro binary.</summary>
    Avro,

    /// <summary>Magic byte, schema id, message indexes, Protobuf binary.</summary>
    Protobuf,
}

/// <summary>
/// Reads an event sent in Confluent's wire format: finds the writer's schema by the id in the
/// message (through the cache), decodes the body with it, and returns the event as the API's JSON,
/// which then takes the same path as a JSON request (model check, schema check, canonical encoding).
/// </summary>
public sealed class WireEventDecoder(SchemaCache schemas)
{
    // The decoded JSON before EventShape reshapes it: only used between awaits.
    [ThreadStatic]
    private static ReusableJsonOutput? t_decoded;

    /// <summary>
    /// Reads a binary event for the publish pipeline: an Avro event of the seed's record shape that
    /// is plainly valid goes straight into the event model (<see cref="WireRead.Event"/>, slicing
    /// <paramref name="message"/>); anything else comes back as event JSON for the event reader to
    /// judge (<see cref="WireRead.Json"/>), or refused.
    /// </summary>
    public async ValueTask<WireRead> ReadAsync(ReadOnlyMemory<byte> message, WireFormat format, EventTimeBounds bounds)
    {
        if (format == WireFormat.Avro
            && ConfluentWireFormat.TryReadHeader(message.Span, out var id, out var offset, out _)
            && await WriterAsync(id).ConfigureAwait(false) is { EventDecoder: { } direct }
            && direct.TryDecode(message[offset..], bounds) is { } e)
        {
            return new WireRead(e, null, null);
        }

        var (json, failure) = await DecodeAsync(message, format).ConfigureAwait(false);
        return new WireRead(null, json, failure);
    }

    /// <summary>The writer's schema when it is known (or can be fetched); failures are left to the general path to report.</summary>
    private async ValueTask<SubjectSchema?> WriterAsync(int id)
    {
        try
        {
            return await schemas.ByIdAsync(id).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UnknownSchemaException or SchemaUnavailableException)
        {
            return null;
        }
    }

    /// <summary>Decodes a binary event to event JSON, or says why it cannot.</summary>
    public async ValueTask<(byte[]? Json, PublishFailure? Failure)> DecodeAsync(ReadOnlyMemory<byte> message, WireFormat format)
    {
        if (!ConfluentWireFormat.TryReadHeader(message.Span, out var id, out var offset, out var error))
        {
            return (null, new PublishFailure(FailureKind.Invalid, ErrorCodes.UnknownSchema,
                $"The body is not in Confluent's wire format (magic byte 0, 4-byte schema id, then the {format} body): {error}"));
        }

        SubjectSchema writer;
        try
        {
            writer = await schemas.ByIdAsync(id).ConfigureAwait(false);
        }
        catch (UnknownSchemaException)
        {
            return (null, new PublishFailure(FailureKind.Invalid, ErrorCodes.UnknownSchema,
                $"The schema registry has no schema with id {id}.", new JsonObject { ["schema_id"] = id }));
        }
        catch (SchemaUnavailableException ex)
        {
            return (null, SchemaGate.Unavailable(ex));
        }

        try
        {
            return format switch
            {
                WireFormat.Avro when writer.Decoder is { } decoder => (EventShape.FromAvro(decoder, message.Span[offset..]), null),
                WireFormat.Protobuf when writer.Schema is ParsedProtobufSchema proto => (DecodeProtobuf(proto, message.Span[offset..]), null),
                _ => (null, new PublishFailure(FailureKind.Invalid, ErrorCodes.UnknownSchema,
                    $"Schema id {id} is a {writer.Schema.Type} schema; a {format} body needs a {format.ToString().ToUpperInvariant()} schema.",
                    new JsonObject { ["schema_id"] = id, ["schema_type"] = writer.Schema.Type.ToString() })),
            };
        }
        catch (Exception ex) when (ex is AvroDecodeException or ProtobufDecodeException or FormatException or JsonException or ArgumentException)
        {
            return (null, new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidEncoding,
                $"The {format} body could not be decoded with schema id {id}: {ex.Message}", new JsonObject { ["schema_id"] = id }));
        }
    }

    private static byte[] DecodeProtobuf(ParsedProtobufSchema schema, ReadOnlySpan<byte> body)
    {
        // After the schema id: which message of the file (Confluent's message indexes), then the message.
        var read = ProtobufMessageIndexes.Read(body, out var indexes);
        var descriptor = schema.GetMessage(indexes is int[] array ? array : [.. indexes]);
        var output = t_decoded ??= new ReusableJsonOutput();
        ProtobufJsonTranscoder.Decode(body[read..], descriptor, output.Start());
        return output.ToArray();
    }
}

/// <summary>A binary event read for the pipeline: the event itself, or its JSON for the event reader, or why neither.</summary>
public readonly record struct WireRead(IngestEvent? Event, byte[]? Json, PublishFailure? Failure);
