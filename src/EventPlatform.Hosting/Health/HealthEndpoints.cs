using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Hosting.Health;

/// <summary>
/// The two health routes every service serves, on the same paths: <c>GET /health/live</c> (the
/// process runs and answers; it checks no dependency, so a supervisor never restarts a service
/// because Kafka is away) and <c>GET /health/ready</c> (every check tagged <see cref="ReadyTag"/>:
/// the service's real dependencies). Both answer JSON in the shape of ASP.NET Core's health
/// reports, naming each check with its status, description and duration; readiness is 503 while
/// any check is unhealthy.
/// </summary>
/// <remarks>
/// Checks are bounded: each runs under <see cref="CheckTimeout"/> (a check that does not answer in
/// time counts as unhealthy), and the checks that reach another system cache their result for a
/// moment (<see cref="CachedHealthCheck"/>, <see cref="Kafka.KafkaHealthProbe"/>,
/// <see cref="SchemaRegistryProbe"/>), so a flood of probes cannot load Kafka or the registry.
/// </remarks>
public static class HealthEndpoints
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Liveness: the process answers.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: the service's dependencies answer.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>The longest one readiness check may take before it counts as unhealthy.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Adds a check that <c>/health/ready</c> runs, bounded by <see cref="CheckTimeout"/>.</summary>
    public static IHealthChecksBuilder AddReadinessCheck<TCheck>(this IHealthChecksBuilder builder, string name)
        where TCheck : class, IHealthCheck
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<TCheck>(name, HealthStatus.Unhealthy, [ReadyTag], CheckTimeout);
    }

    /// <summary>Maps <c>GET /health/live</c> and <c>GET /health/ready</c> (also HEAD), open to anyone.</summary>
    public static IEndpointRouteBuilder MapPlatformHealth(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJsonAsync })
            .WithMetadata(GetOnly).AllowAnonymous().WithDisplayName("Liveness");
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteJsonAsync })
            .WithMetadata(GetOnly).AllowAnonymous().WithDisplayName("Readiness");
        return app;
    }

    private static readonly HttpMethodMetadata GetOnly = new(["GET", "HEAD"]);

    /// <summary>
    /// Writes <paramref name="report"/> as <c>{"status":"Unhealthy","total_duration_ms":12.3,"checks":{"kafka":{"status":...,"description":...,"duration_ms":...}}}</c>.
    /// </summary>
    public static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteNumber("total_duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                if (entry.Description is { } description)
                {
                    json.WriteString("description", description);
                }

                json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }
}
