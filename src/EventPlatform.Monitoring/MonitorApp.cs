using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Workers;
using EventPlatform.Kafka.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Monitoring;

/// <summary>
/// The Kafka exporter as a worker host: <c>/metrics</c> (the figures of <see cref="KafkaExporterMetrics"/>),
/// <c>/health/live</c> and <c>/health/ready</c> (ready while the cluster answers), on 127.0.0.1:9308 by default
/// (<c>Monitor:Urls</c>).
/// </summary>
public static class MonitorApp
{
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = PlatformWorkerApplication.CreateBuilder(args, MonitorOptions.SectionName, MonitorOptions.DefaultUrls, overrides);
        builder.Services.AddKafkaExporter(builder.Configuration);
        return builder.BuildWorker();
    }

    /// <summary>Registers the exporter: options (validated at start), the cluster reader, the poll loop, the metrics and readiness.</summary>
    public static IServiceCollection AddKafkaExporter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MonitorOptions>()
            .Bind(configuration.GetSection(MonitorOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.ConsumerGroups.All(g => !string.IsNullOrEmpty(g)), "Monitor:ConsumerGroups has an empty group id.")
            .ValidateOnStart();
        services.AddOptions<KafkaOptions>()
            .Bind(configuration.GetSection(KafkaOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => !o.UsesEmbeddedBroker, "Kafka:BootstrapServers (KAFKA_BOOTSTRAP_SERVERS) is required: the monitor reads a running cluster.")
            .ValidateOnStart();
        services.AddSingleton(sp => new KafkaClusterReader(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<IOptions<MonitorOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<KafkaClusterReader>>()));
        services.AddSingleton<KafkaExporterMetrics>();
        services.AddSingleton<KafkaExporterService>();
        services.AddHostedService(sp => sp.GetRequiredService<KafkaExporterService>());
        services.AddHealthChecks().AddReadinessCheck<ExporterReadinessCheck>("kafka");
        return services;
    }
}
