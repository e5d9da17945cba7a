using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventPlatform.Gateway.Api;

/// <summary><c>GET /api/v1/health</c>: public, measured, never rate limited.</summary>
public static class HealthApi
{
    public const string Healthy = "healthy";
    public const string Degraded = "degraded";
    public const string Unhealthy = "unhealthy";

    public static IEndpointConventionBuilder MapHealthApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/health", GetHealthAsync).AllowAnonymous().WithName("Health").WithHealthDocs();

    /// <summary>
    /// healthy: Kafka answers (and the registry, when one is configured). degraded: Kafka answers
    /// but a configured registry does not. unhealthy (503): Kafka does not answer.
    /// </summary>
    public static async Task<JsonHttpResult<HealthResponse>> GetHealthAsync(KafkaHealthProbe kafka, SchemaRegistryProbe registry, ServiceUptime uptime)
    {
        var kafkaTask = kafka.CheckAsync();
        var registryTask = registry.CheckAsync();
        var kafkaHealth = await kafkaTask.ConfigureAwait(false);
        var registryUp = await registryTask.ConfigureAwait(false);

        var status = !kafkaHealth.Connected ? Unhealthy : registry.IsConfigured && !registryUp ? Degraded : Healthy;
        var response = new HealthResponse(status, kafkaHealth.Connected, registryUp, Math.Round(uptime.Elapsed.TotalSeconds, 3));
        return TypedResults.Json(response, GatewayJsonContext.Api.HealthResponse,
            statusCode: kafkaHealth.Connected ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
