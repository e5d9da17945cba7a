using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// Prometheus metrics for every service: register with <see cref="AddPlatformMetrics"/>, measure
/// requests with <see cref="UsePlatformHttpMetrics"/> (first in the pipeline) and serve
/// <c>GET /metrics</c> with <see cref="MapPlatformMetrics"/>.
/// </summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the service's Prometheus registry (<see cref="MetricsRegistry"/>), the HTTP metrics,
    /// the exporter of the platform's <see cref="System.Diagnostics.Metrics.Meter"/>s and the
    /// error counts. Idempotent.
    /// </summary>
    public static IServiceCollection AddPlatformMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.TryAddSingleton<HttpRequestMetrics>();
        services.TryAddSingleton<PrometheusMeterExporter>();
        services.TryAddSingleton<ApiErrorCounts>();
        return services;
    }

    /// <summary>
    /// Measures every request (<see cref="HttpRequestMetrics"/>) and starts exporting the
    /// platform's meters. Call it first, so that the measured status is the one the client got,
    /// error pages included.
    /// </summary>
    public static IApplicationBuilder UsePlatformHttpMetrics(this IApplicationBuilder app)
    {
        // Listening starts now, before any request: no measurement of our meters is missed.
        app.ApplicationServices.GetRequiredService<PrometheusMeterExporter>();
        var metrics = app.ApplicationServices.GetRequiredService<HttpRequestMetrics>();
        return app.Use(next => context => metrics.InvokeAsync(context, next));
    }

    /// <summary>
    /// <c>GET /metrics</c>: the service's registry in the Prometheus text exposition format
    /// (OpenMetrics when the scraper asks for it). Public like health; not counted in the HTTP
    /// metrics itself.
    /// </summary>
    public static IEndpointConventionBuilder MapPlatformMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        var registry = endpoints.ServiceProvider.GetRequiredService<MetricsRegistry>().Registry;
        return endpoints.MapMetrics(settings => settings.Registry = registry, pattern)
            .AllowAnonymous()
            .WithMetadata(ExcludeFromHttpMetricsMetadata.Instance, new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
    }
}
