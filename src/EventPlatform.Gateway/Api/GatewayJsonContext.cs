using System.Text.Json.Serialization;
using EventPlatform.Core;

namespace EventPlatform.Gateway.Api;

/// <summary>Source-generated JSON for the API's own models, in the seed's snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(EventResponse))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(HealthResponse))]
public sealed partial class GatewayJsonContext : JsonSerializerContext
{
    /// <summary>The instance the API writes with (readable quotes; see <see cref="CoreJsonContext.Api"/>).</summary>
    public static GatewayJsonContext Api { get; } = new(CoreJsonContext.ApiOptions(omitNulls: true));
}
