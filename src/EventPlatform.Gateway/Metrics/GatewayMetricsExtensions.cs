using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Api;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Metrics;

/// <summary>Registration and routes of the gateway's metrics.</summary>
public static class GatewayMetricsExtensions
{
    /// <summary>The platform's metrics (Prometheus registry, HTTP metrics, error counts) and the gateway's own.</summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddPlatformMetrics();
        services.AddSingleton<GatewayMetrics>();
        return services;
    }

    /// <summary>
    /// Measures every request (call it first in the pipeline) and maps <c>GET /metrics</c>
    /// (Prometheus) and <c>GET /api/v1/metrics</c> (the seed's service metrics).
    /// </summary>
    public static WebApplication UseGatewayMetrics(this WebApplication app)
    {
        // Made now, so that uptime counts from the start rather than from the first request that asks.
        app.Services.GetRequiredService<ServiceUptime>();
        app.UsePlatformHttpMetrics();
        app.MapPlatformMetrics();
        app.MapServiceMetricsApi();
        return app;
    }

    /// <summary>
    /// For the publish routes: their request latencies feed <c>latency_ms</c>, and every event
    /// they refuse is counted in <c>events_rejected_total{error_code}</c> (a rejected batch slot
    /// also in the service's error counts, since it is not an <see cref="ErrorResponse"/>).
    /// </summary>
    public static RouteGroupBuilder WithEventMetrics(this RouteGroupBuilder group)
    {
        group.WithMetadata(RecentLatencyMetadata.Instance);
        group.AddEndpointFilterFactory(static (factory, next) =>
        {
            var metrics = factory.ApplicationServices.GetRequiredService<GatewayMetrics>();
            var errors = factory.ApplicationServices.GetRequiredService<ApiErrorCounts>();
            return async invocation =>
            {
                var result = await next(invocation).ConfigureAwait(false);
                CountRejections(result, metrics, errors);
                return result;
            };
        });
        return group;
    }

    private static void CountRejections(object? result, GatewayMetrics metrics, ApiErrorCounts errors)
    {
        switch (result)
        {
            case JsonHttpResult<ErrorResponse> { Value: { } error }:
                metrics.EventRejected(error.ErrorCode);
                break;
            case JsonHttpResult<BatchResponse> { Value: { Rejected: > 0 } batch }:
                foreach (var item in batch.Results)
                {
                    if (item.Error is { } error)
                    {
                        metrics.EventRejected(error.ErrorCode);
                        errors.Record(error.ErrorCode);
                    }
                }

                break;
        }
    }
}
