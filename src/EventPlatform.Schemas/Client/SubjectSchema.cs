using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Events;
using EventPlatform.Schemas.JsonSchemas;

namespace EventPlatform.Schemas.Client;

/// <summary>
/// A registered schema as the gateway and other readers use it: parsed once, with what the hot path needs
/// compiled once (the Avro encoder that validates and encodes events, the JSON Schema validator).
/// </summary>
public sealed class SubjectSchema
{
    /// <summary>Event JSON to Avro: ISO timestamps become longs, JSON payloads become their text (the seed's Event).</summary>
    private static readonly AvroJsonEncoderOptions EventEncoding = AvroJsonEncoderOptions.Default with { AcceptTimestampStrings = true, JsonTextForStrings = true };

    private AvroBinaryDecoder? _decoder;

    /// <summary>Compiles a parsed schema.</summary>
    public SubjectSchema(string? subject, int id, int version, ParsedSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Subject = subject;
        Id = id;
        Version = version;
        Schema = schema;
        Encoder = schema is ParsedAvroSchema avro ? new AvroJsonEncoder(avro.Schema, EventEncoding) : null;
        EventEncoder = schema is ParsedAvroSchema eventRecord ? EventRecordEncoder.TryCreate(eventRecord.Schema) : null;
        EventDecoder = schema is ParsedAvroSchema writtenRecord ? EventRecordDecoder.TryCreate(writtenRecord.Schema) : null;
        Validator = schema is ParsedJsonSchema json ? json.Validator : null;
    }

    /// <summary>The subject it was looked up under (null when looked up by id).</summary>
    public string? Subject { get; }

    /// <summary>The registry's global id.</summary>
    public int Id { get; }

    /// <summary>The version within <see cref="Subject"/> (0 when looked up by id).</summary>
    public int Version { get; }

    /// <summary>The parsed schema.</summary>
    public ParsedSchema Schema { get; }

    /// <summary>For Avro schemas: validates event JSON and encodes it.</summary>
    public AvroJsonEncoder? Encoder { get; }

    /// <summary>For Avro records of the event's own fields (the seed's): encodes the event model directly, no JSON in between.</summary>
    internal EventRecordEncoder? EventEncoder { get; }

    /// <summary>For Avro records of the event's own fields: reads data written with this schema straight into the event model.</summary>
    internal EventRecordDecoder? EventDecoder { get; }

    /// <summary>For JSON Schemas: validates instances.</summary>
    public JsonSchemaValidator? Validator { get; }

    /// <summary>For Avro schemas: decodes data written with this schema (built on first use).</summary>
    public AvroBinaryDecoder? Decoder => Schema is ParsedAvroSchema avro
        ? _decoder ??= new AvroBinaryDecoder(avro.Schema)
        : null;
}
