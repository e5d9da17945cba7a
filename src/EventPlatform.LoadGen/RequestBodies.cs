using System.Buffers;
using System.Text.Json;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;

namespace EventPlatform.LoadGen;

/// <summary>The encodings the generator can send single events in.</summary>
public enum BodyFormat
{
    /// <summary>The API's JSON (application/json).</summary>
    Json,

    /// <summary>Confluent wire format: magic byte, the topic's latest Avro schema id, Avro binary.</summary>
    Avro,

    /// <summary>Confluent wire format: magic byte, schema id, message indexes [0], Protobuf binary of the seed's Event.</summary>
    Protobuf,
}

/// <summary>
/// Request bodies in the format under test. Avro and Protobuf bodies are the JSON factory's events
/// encoded with the registry's codecs: about a microsecond a body on top of the JSON (a document
/// parse and one encoding pass), small next to an HTTP request, and every event stays unique.
/// Thread-safe.
/// </summary>
internal sealed class RequestBodies
{
    public const string AvroMediaType = "application/vnd.kafka.avro.v2+binary";
    public const string ProtobufMediaType = "application/x-protobuf";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    private readonly EventBodyFactory json;
    private readonly Action<JsonElement, IBufferWriter<byte>>? encode;
    private readonly int schemaId;

    private RequestBodies(EventBodyFactory json, string contentType, int schemaId = 0, Action<JsonElement, IBufferWriter<byte>>? encode = null)
    {
        this.json = json;
        ContentType = contentType;
        this.schemaId = schemaId;
        this.encode = encode;
    }

    public string ContentType { get; }

    public static RequestBodies Json(EventBodyFactory json) => new(json, "application/json");

    /// <summary>Avro with <paramref name="schema"/>, registered under <paramref name="schemaId"/>.</summary>
    public static RequestBodies Avro(EventBodyFactory json, int schemaId, string schema)
    {
        var encoder = new AvroJsonEncoder(((ParsedAvroSchema)AvroFormat.Instance.Parse(schema, [])).Schema, AvroJsonEncoderOptions.Default);
        return new(json, AvroMediaType, schemaId, (e, output) =>
        {
            var result = encoder.Encode(e, output);
            if (!result.IsValid)
            {
                throw new InvalidOperationException($"A generated event does not match Avro schema id {schemaId}: missing [{string.Join(", ", result.MissingFields)}], invalid [{string.Join(", ", result.InvalidFields.Select(f => f.Path + ": " + f.Reason))}].");
            }
        });
    }

    /// <summary>Protobuf, the seed's <c>Event</c> message, registered under <paramref name="schemaId"/>.</summary>
    public static RequestBodies Protobuf(EventBodyFactory json, int schemaId)
    {
        var message = ((ParsedProtobufSchema)ProtobufFormat.Instance.Parse(SeedProtobufSchemas.Event, [])).GetMessage([0]);
        return new(json, ProtobufMediaType, schemaId, (e, output) =>
        {
            ProtobufMessageIndexes.Write([0], output);
            ProtobufJsonTranscoder.Encode(e, message, output);
        });
    }

    /// <summary>One body: JSON of <paramref name="count"/> events, or one event in the binary format.</summary>
    public byte[] Create(int count, bool asArray) => Encode(json.Create(count, asArray));

    /// <summary>A JSON body in this format.</summary>
    internal byte[] Encode(byte[] body)
    {
        if (encode is null)
        {
            return body;
        }

        using var document = JsonDocument.Parse(body);
        var output = scratch ??= new ArrayBufferWriter<byte>(1024);
        output.ResetWrittenCount();
        ConfluentWireFormat.WriteHeader(output, schemaId);
        encode(document.RootElement, output);
        return output.WrittenSpan.ToArray();
    }
}
