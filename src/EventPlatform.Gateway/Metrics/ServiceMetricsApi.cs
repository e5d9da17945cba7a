using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Hosting.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventPlatform.Gateway.Metrics;

/// <summary><c>GET /api/v1/metrics</c>: the seed's service metrics as JSON. Public like health.</summary>
public static class ServiceMetricsApi
{
    public static IEndpointConventionBuilder MapServiceMetricsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/metrics", GetMetrics).AllowAnonymous().WithName("ServiceMetrics").WithServiceMetricsDocs();

    /// <summary>
    /// Reads counters and windows kept in memory: no I/O, so it answers at once even while Kafka
    /// is away (the Kafka fields are then as of the last statistics report).
    /// </summary>
    public static JsonHttpResult<ServiceMetricsResponse> GetMetrics(
        ServiceUptime uptime, HttpRequestMetrics http, GatewayMetrics gateway, ApiErrorCounts errors, KafkaProducerStatistics producer)
    {
        var byCode = errors.ByCode();
        var latency = http.RecentLatency.Summarize();
        var kafka = producer.Latest;
        var response = new ServiceMetricsResponse(
            UptimeSeconds: Math.Round(uptime.Elapsed.TotalSeconds, 3),
            WindowSeconds: (int)HttpRequestMetrics.ServiceWindow.TotalSeconds,
            RequestsTotal: http.RequestsTotal,
            RequestsPerSecond: Math.Round(http.RequestRate.PerSecond(), 3),
            EventsPublishedTotal: gateway.EventsPublishedTotal,
            EventsPerSecond: Math.Round(gateway.EventRate.PerSecond(), 3),
            ErrorsTotal: byCode.Values.Sum(),
            ErrorsByCode: byCode,
            LatencyMs: new LatencyMilliseconds(latency.Count, Ms(latency.P50), Ms(latency.P95), Ms(latency.P99), Ms(latency.Max)),
            ProducerQueueDepth: kafka?.QueueDepth,
            KafkaConnected: kafka is null ? null : kafka.BrokersUp > 0);
        return TypedResults.Json(response, MetricsJsonContext.Api.ServiceMetricsResponse);
    }

    private static double Ms(TimeSpan value) => Math.Round(value.TotalMilliseconds, 3);
}
