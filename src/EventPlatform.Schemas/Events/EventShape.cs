using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EventPlatform.Schemas.Events;

/// <summary>
/// Turns an event decoded from its Avro record (the seed's <c>Event</c>: <c>timestamp</c> as epoch
/// milliseconds, <c>payload</c> and <c>metadata</c> as JSON text) back into the API's event JSON
/// (an RFC 3339 timestamp, payload and metadata as objects), which the event reader then checks.
/// </summary>
/// <remarks>
/// One forward pass with a reader: every other value is copied as its raw bytes, so the only
/// allocation per event is the result (this runs for every Avro request).
/// </remarks>
internal static class EventShape
{
    [ThreadStatic]
    private static ReusableJsonOutput? t_output;

    [ThreadStatic]
    private static ReusableJsonOutput? t_decoded;

    /// <summary>Decodes an Avro body with <paramref name="decoder"/> and returns the event as the API's JSON.</summary>
    /// <exception cref="EventPlatform.Schemas.Avro.AvroDecodeException">The body does not decode.</exception>
    public static byte[] FromAvro(EventPlatform.Schemas.Avro.AvroBinaryDecoder decoder, ReadOnlySpan<byte> body)
    {
        var decoded = t_decoded ??= new ReusableJsonOutput();
        decoder.Decode(body, decoded.Start());
        return FromAvroJson(decoded.Written);
    }

    public static byte[] FromAvroJson(ReadOnlySpan<byte> decoded)
    {
        var reader = new Utf8JsonReader(decoded);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            // Not a record: the event reader says what is wrong with it, as for a JSON body.
            return decoded.ToArray();
        }

        var output = t_output ??= new ReusableJsonOutput();
        var writer = output.Start();
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isTimestamp = reader.ValueTextEquals("timestamp"u8);
            var isJsonText = reader.ValueTextEquals("payload"u8) || reader.ValueTextEquals("metadata"u8);
            if (reader.ValueIsEscaped)
            {
                writer.WritePropertyName(reader.GetString()!);
            }
            else
            {
                writer.WritePropertyName(reader.ValueSpan);
            }

            reader.Read();
            if (isTimestamp && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var millis))
            {
                WriteTimestamp(writer, millis);
            }
            else if (isJsonText && reader.TokenType == JsonTokenType.String)
            {
                WriteObjectOrString(writer, ref reader, decoded);
            }
            else
            {
                writer.WriteRawValue(RawValue(ref reader, decoded), skipInputValidation: true);
            }
        }

        writer.WriteEndObject();
        return output.ToArray();
    }

    private static readonly long MinMillis = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxMillis = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private static void WriteTimestamp(Utf8JsonWriter writer, long millis)
    {
        // A time no date can hold becomes the nearest end of the range, which the event reader then
        // refuses for the right reason (before 1970, or too far ahead) rather than as undecodable.
        millis = Math.Clamp(millis, MinMillis, MaxMillis);
        Span<byte> text = stackalloc byte[40];
        DateTimeOffset.FromUnixTimeMilliseconds(millis).TryFormat(text, out var length, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        writer.WriteStringValue(text[..length]);
    }

    /// <summary>JSON text holding an object is written as that object, anything else stays a string.</summary>
    private static void WriteObjectOrString(Utf8JsonWriter writer, ref Utf8JsonReader reader, ReadOnlySpan<byte> decoded)
    {
        var rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            var text = rented.AsSpan(0, reader.CopyString(rented));
            if (IsOneObject(text))
            {
                writer.WriteRawValue(text, skipInputValidation: true);
            }
            else
            {
                writer.WriteRawValue(RawValue(ref reader, decoded), skipInputValidation: true);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The current value as written in <paramref name="decoded"/> (a container is skipped to its end).</summary>
    private static ReadOnlySpan<byte> RawValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> decoded)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return decoded[start..(int)reader.BytesConsumed];
    }

    private static bool IsOneObject(ReadOnlySpan<byte> text)
    {
        var reader = new Utf8JsonReader(text);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
