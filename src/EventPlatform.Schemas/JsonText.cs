using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EventPlatform.Schemas;

/// <summary>JSON text helpers shared by the JSON-based schema formats.</summary>
public static class JsonText
{
    private static readonly JsonWriterOptions CompactOptions = new()
    {
        Indented = false,
        // Keep schema text readable: only what JSON requires is escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The same JSON value without insignificant whitespace.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static string Compact(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Compact(document.RootElement);
    }

    /// <summary>The JSON value as compact text.</summary>
    public static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, CompactOptions))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
