using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventPlatform.Gateway.Metrics;

/// <summary>
/// The seed's service metrics, <c>GET /api/v1/metrics</c>: a summary for people and simple
/// checks. Prometheus scrapes the full set, with labels, from <c>/metrics</c>.
/// </summary>
/// <param name="UptimeSeconds">Seconds since the service started.</param>
/// <param name="WindowSeconds">The window of the rates and latencies below (60): they cover the last this many seconds, or the whole uptime when shorter.</param>
/// <param name="RequestsTotal">HTTP requests answered since start, on every route but the Prometheus scrape (<c>/metrics</c>).</param>
/// <param name="RequestsPerSecond">Those requests per second over the window.</param>
/// <param name="EventsPublishedTotal">Events Kafka acknowledged since start (single, batch and every other way in).</param>
/// <param name="EventsPerSecond">Those events per second over the window.</param>
/// <param name="ErrorsTotal">Errors reported to clients since start: every <c>ErrorResponse</c> (any route, authentication included) plus every rejected slot of a batch. The sum of <paramref name="ErrorsByCode"/>.</param>
/// <param name="ErrorsByCode">The same errors by <c>error_code</c>.</param>
/// <param name="LatencyMs">Server-side latency of the publish requests (<c>POST /api/v1/events/{topic}</c> and its batch form) over the window, in milliseconds.</param>
/// <param name="ProducerQueueDepth">Records waiting in the Kafka producer (queued or in flight), as of the last librdkafka statistics report; null before the first one or with statistics off.</param>
/// <param name="KafkaConnected">Whether the producer had a connection to at least one broker at that report; null likewise.</param>
public sealed record ServiceMetricsResponse(
    double UptimeSeconds,
    int WindowSeconds,
    long RequestsTotal,
    double RequestsPerSecond,
    long EventsPublishedTotal,
    double EventsPerSecond,
    long ErrorsTotal,
    IReadOnlyDictionary<string, long> ErrorsByCode,
    LatencyMilliseconds LatencyMs,
    long? ProducerQueueDepth,
    bool? KafkaConnected);

/// <summary>Latency percentiles over a window, in milliseconds; all 0 when the window holds no request.</summary>
/// <param name="Count">Requests in the window.</param>
/// <param name="P50">Median.</param>
/// <param name="P95">95th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Max">Slowest.</param>
public sealed record LatencyMilliseconds(long Count, double P50, double P95, double P99, double Max);

/// <summary>Source-generated JSON for the service metrics, in the seed's snake_case; unknown values are written as null, not left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ServiceMetricsResponse))]
public sealed partial class MetricsJsonContext : JsonSerializerContext
{
    /// <summary>The instance the API writes with (readable quotes, as the other API bodies).</summary>
    public static MetricsJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
