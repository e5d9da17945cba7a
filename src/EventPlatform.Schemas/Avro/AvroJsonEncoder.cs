using System.Buffers;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Encodes plain JSON (not Avro's JSON encoding: union values are not wrapped) into Avro binary for
/// one schema, validating as it goes. A union branch is chosen by the JSON value's kind: null; a
/// boolean; an integral number as int, then long, double, float; a number as double, then float; a
/// string as string, enum symbol, timestamp, base64 bytes or fixed; an object as a record whose
/// required fields it has, then a map; an array as an array. Every problem is collected, not just
/// the first. The encoder is immutable after construction and safe to share between threads.
/// </summary>
public sealed class AvroJsonEncoder
{
    private readonly EncodeNode _root;

    /// <summary>Prepares an encoder for <paramref name="schema"/> (field defaults are encoded once, here).</summary>
    public AvroJsonEncoder(AvroSchema schema, AvroJsonEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
        Options = options ?? AvroJsonEncoderOptions.Default;
        _root = EncodePlan.Build(schema, Options);
    }

    /// <summary>The schema data is encoded with.</summary>
    public AvroSchema Schema { get; }

    /// <summary>The conventions in force.</summary>
    public AvroJsonEncoderOptions Options { get; }

    /// <summary>
    /// Encodes <paramref name="value"/> into <paramref name="output"/>. When the result is not valid,
    /// what was written is meaningless: write into a scratch buffer and discard it then.
    /// </summary>
    public AvroEncodeResult Encode(JsonElement value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var context = EncodeContext.Rent(Options, defaultMode: false);
        try
        {
            _root.Encode(value, output, context);
            return context.Result();
        }
        finally
        {
            EncodeContext.Return(context);
        }
    }
}

/// <summary>The JSON conventions an <see cref="AvroJsonEncoder"/> accepts beyond the plain mapping.</summary>
public sealed record AvroJsonEncoderOptions
{
    /// <summary>The gateway's conventions: every option below at its default.</summary>
    public static AvroJsonEncoderOptions Default { get; } = new();

    /// <summary>Only the plain mapping (timestamps as numbers, strings as strings, unknown properties ignored).</summary>
    public static AvroJsonEncoderOptions Strict { get; } = new() { AcceptTimestampStrings = false, JsonTextForStrings = false };

    /// <summary>
    /// A plain <c>long</c> also accepts an RFC 3339 timestamp string, as epoch milliseconds (the seed's
    /// Event has <c>"timestamp": "long"</c>). Longs with a <c>timestamp-*</c> logical type always
    /// accept one, in their unit. Default on.
    /// </summary>
    public bool AcceptTimestampStrings { get; init; } = true;

    /// <summary>
    /// A <c>string</c> given a JSON object or array carries its compact JSON text (the seed's Event
    /// has <c>"payload": "string"</c> holding the JSON payload). Default on.
    /// </summary>
    public bool JsonTextForStrings { get; init; } = true;

    /// <summary>Properties of a JSON object that are not fields of its record are reported as invalid. Default off.</summary>
    public bool RejectUnknownFields { get; init; }

    /// <summary>How deeply values may nest (records, arrays, maps) before encoding stops with an error.</summary>
    public int MaxDepth { get; init; } = 64;
}

/// <summary>The outcome of encoding one value: valid, or every problem found.</summary>
public sealed class AvroEncodeResult
{
    internal static readonly AvroEncodeResult Valid = new([], []);

    internal AvroEncodeResult(IReadOnlyList<string> missingFields, IReadOnlyList<AvroInvalidField> invalidFields)
    {
        MissingFields = missingFields;
        InvalidFields = invalidFields;
    }

    /// <summary>Whether the value was encoded (no missing or invalid fields).</summary>
    public bool IsValid => MissingFields.Count == 0 && InvalidFields.Count == 0;

    /// <summary>Dotted paths of required record fields (no default) that were absent, e.g. <c>user.address.city</c>.</summary>
    public IReadOnlyList<string> MissingFields { get; }

    /// <summary>Values that do not fit their schema, with the reason.</summary>
    public IReadOnlyList<AvroInvalidField> InvalidFields { get; }
}

/// <summary>A value that does not fit its schema.</summary>
/// <param name="Path">Dotted path (array items as <c>[i]</c>); <c>$</c> for the whole value.</param>
/// <param name="Reason">What was expected and what was found.</param>
public sealed record AvroInvalidField(string Path, string Reason);
