using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EventPlatform.Gateway.Schemas;

/// <summary>
/// Turns an event decoded from its Avro record (the seed's <c>Event</c>: <c>timestamp</c> as epoch
/// milliseconds, <c>payload</c> and <c>metadata</c> as JSON text) back into the API's event JSON
/// (an RFC 3339 timestamp, payload and metadata as objects), which the event reader then checks.
/// </summary>
internal static class EventShape
{
    public static byte[] FromAvroJson(ReadOnlySpan<byte> decoded)
    {
        using var document = JsonDocument.Parse(decoded.ToArray());
        var output = new ArrayBufferWriter<byte>(decoded.Length + 64);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("timestamp"u8) && property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var millis))
                {
                    writer.WriteString("timestamp"u8, DateTimeOffset.FromUnixTimeMilliseconds(millis).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                }
                else if ((property.NameEquals("payload"u8) || property.NameEquals("metadata"u8)) && property.Value.ValueKind == JsonValueKind.String && TryParseObject(property.Value.GetString()!, out var raw))
                {
                    writer.WritePropertyName(property.Name);
                    writer.WriteRawValue(raw, skipInputValidation: true);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool TryParseObject(string text, out string raw)
    {
        raw = text;
        try
        {
            using var parsed = JsonDocument.Parse(text);
            return parsed.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
