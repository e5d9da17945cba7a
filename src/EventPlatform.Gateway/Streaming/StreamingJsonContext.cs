using System.Text.Json.Serialization;
using EventPlatform.Core;

namespace EventPlatform.Gateway.Streaming;

/// <summary>Source-generated JSON for the read side's models and WebSocket frames, in the seed's snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(LatestEventsResponse))]
[JsonSerializable(typeof(StreamSubscribed))]
[JsonSerializable(typeof(IngestAck))]
[JsonSerializable(typeof(IngestError))]
public sealed partial class StreamingJsonContext : JsonSerializerContext
{
    /// <summary>The instance the API writes with (the same settings as <see cref="Api.GatewayJsonContext.Api"/>).</summary>
    public static StreamingJsonContext Api { get; } = new(CoreJsonContext.ApiOptions(omitNulls: true));
}
