using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Core.Errors;

namespace EventPlatform.Core;

/// <summary>Source-generated JSON for the core models, in the seed's snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(DlqMessage))]
public sealed partial class CoreJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The instance the API writes with: quotes and angle brackets stay readable (these bodies
    /// are JSON for clients, never embedded in HTML).
    /// </summary>
    public static CoreJsonContext Api { get; } = new(ApiOptions(omitNulls: false));

    /// <summary>
    /// The options every API context writes with: the seed's snake_case, UTC timestamps, and only
    /// what JSON requires escaped. Each source-generated context needs an instance of its own.
    /// </summary>
    public static JsonSerializerOptions ApiOptions(bool omitNulls) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = omitNulls ? JsonIgnoreCondition.WhenWritingNull : JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new UtcTimestampConverter() },
    };
}
