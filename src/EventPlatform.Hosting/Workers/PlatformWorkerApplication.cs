using System.ComponentModel.DataAnnotations;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Errors;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Hosting.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventPlatform.Hosting.Workers;

/// <summary>
/// The host of a service that reads Kafka rather than serving HTTP (the stream processor, the
/// sink): the web services' configuration, options validation, logging, metrics and failure
/// handling, and a small listener for its supervisor and Prometheus that serves
/// <c>GET /health/live</c>, <c>GET /health/ready</c> (<see cref="HealthEndpoints"/>) and <c>GET /metrics</c>.
/// </summary>
/// <remarks>
/// Usage: <c>var builder = PlatformWorkerApplication.CreateBuilder(args, "Processor", "http://127.0.0.1:8082");</c>,
/// register the work as hosted services and readiness checks (<see cref="HealthEndpoints.AddReadinessCheck"/>, or
/// <see cref="Kafka.KafkaHealthCheck"/>), then <c>builder.BuildWorker()</c> and run it like a web service.
/// </remarks>
public static class PlatformWorkerApplication
{
    /// <summary>The tag of the health checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = HealthEndpoints.ReadyTag;

    /// <summary>
    /// A builder with the web services' configuration precedence and logging
    /// (<see cref="PlatformWebApplication.CreateBuilder"/>), <see cref="WorkerHostOptions"/> bound
    /// from <paramref name="sectionName"/> and validated at start, the platform's metrics, health
    /// checks and the <see cref="ServiceFailure"/> that stops the service when a part fails for good.
    /// </summary>
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--Processor:Urls=...</c>).</param>
    /// <param name="sectionName">The service's configuration section; its <c>Urls</c> say where the listener is.</param>
    /// <param name="defaultUrls">Where the listener is when the section does not say.</param>
    /// <param name="overrides">Settings decided by the caller (what <c>up</c> decides), below the command line.</param>
    public static WebApplicationBuilder CreateBuilder(string[] args, string sectionName, string defaultUrls, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sectionName);
        var builder = PlatformWebApplication.CreateBuilder(args, overrides);
        var section = builder.Configuration.GetSection(sectionName);
        builder.Services.AddOptions<WorkerHostOptions>()
            .Bind(section)
            .Configure(o => o.Urls ??= defaultUrls)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var urls = section[nameof(WorkerHostOptions.Urls)] ?? defaultUrls;
        builder.WebHost.UseUrls(urls.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        ConnectionLimits.Apply(builder, sectionName, ConnectionLimits.ServiceShare);
        builder.Services.AddPlatformMetrics();
        builder.Services.AddHealthChecks();
        builder.Services.TryAddSingleton<ServiceFailure>();
        return builder;
    }

    /// <summary>Builds the worker and maps its three endpoints; any other path is 404.</summary>
    public static WebApplication BuildWorker(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        app.UseRequestIds();
        // Listening starts now, before the work does: no measurement of the platform's meters is missed.
        app.Services.GetRequiredService<PrometheusMeterExporter>();
        app.MapPlatformHealth();
        app.MapPlatformMetrics();
        return app;
    }
}

/// <summary>Where a worker's health and metrics listener is.</summary>
public sealed class WorkerHostOptions
{
    /// <summary>The listener's URLs (comma separated), e.g. <c>http://0.0.0.0:8082</c>.</summary>
    [Required]
    public string? Urls { get; set; }
}
