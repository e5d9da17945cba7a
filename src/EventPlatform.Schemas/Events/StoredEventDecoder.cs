using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;

namespace EventPlatform.Schemas.Events;

/// <summary>
/// Reads an event back from a Kafka record value, whichever way it was stored: the Confluent wire
/// format (Avro or JSON body, schema looked up by id through the cache) or plain JSON (written
/// with schemas off, or by other producers). For the latest-events query and the stream.
/// </summary>
public sealed class StoredEventDecoder(SchemaCache schemas)
{
    /// <summary>The event in <paramref name="value"/>, or null when it is not one.</summary>
    /// <remarks>Blocks on a registry lookup the first time an id is seen: call it off the request path.</remarks>
    public IngestEvent? Decode(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return null;
        }

        if (value[0] != ConfluentWireFormat.MagicByte)
        {
            return EventJsonReader.ReadSingle(value).Result.Event;
        }

        if (!ConfluentWireFormat.TryReadHeader(value, out var id, out var offset, out _))
        {
            return null;
        }

        try
        {
            var task = schemas.ByIdAsync(id);
            var schema = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
            var body = value.AsSpan(offset);
            if (schema.Decoder is { } decoder)
            {
                return EventJsonReader.ReadSingle(EventShape.FromAvro(decoder, body)).Result.Event;
            }

            return schema.Schema.Type == SchemaType.JSON ? EventJsonReader.ReadSingle(body.ToArray()).Result.Event : null;
        }
        catch (Exception ex) when (ex is UnknownSchemaException or SchemaUnavailableException or AvroDecodeException or JsonException)
        {
            return null;
        }
    }
}
