using Confluent.SchemaRegistry;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Hosting.Workers;
using EventPlatform.Processor.Enrichment;
using EventPlatform.Processor.Job;
using EventPlatform.Schemas.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Processor.Service;

/// <summary>Builds the stream processor as a worker (health, readiness, <c>/metrics</c>): for the <c>processor</c> and <c>up</c> commands, and for tests.</summary>
public static class ProcessorApp
{
    /// <summary>The processor's listener when <c>Processor:Urls</c> does not say (the registry has 8081, Connect 8083).</summary>
    public const string DefaultUrls = "http://127.0.0.1:8082";

    /// <param name="args">Command-line arguments (configuration overrides such as --Processor:CheckpointInterval=00:00:01).</param>
    /// <param name="overrides">Settings that beat the environment but not the command line (what <c>up</c> decides).</param>
    /// <param name="configureServices">Extra registrations (the embedded broker).</param>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = PlatformWorkerApplication.CreateBuilder(args, ProcessorOptions.SectionName, DefaultUrls, overrides);
        builder.Services.AddProcessor(builder.Configuration);
        configureServices?.Invoke(builder.Services);
        return builder.BuildWorker();
    }

    /// <summary>
    /// Adds the default job and what it needs: its options (validated at start), Kafka, Confluent's
    /// registry client with the configured credentials, the schema cache, the metrics, readiness
    /// (Kafka, the registry, the checkpoint store, the job) and the service that runs it.
    /// </summary>
    public static IServiceCollection AddProcessor(this IServiceCollection services, IConfiguration configuration)
    {
        var registry = SchemaRegistryClientSettings.From(configuration);
        services.AddOptions<ProcessorOptions>()
            .Bind(configuration.GetSection(ProcessorOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(_ => registry.Url is not null, "The processor needs SCHEMA_REGISTRY_URL (SchemaRegistry:Url): events are decoded and results encoded with registered schemas. 'up' sets it.")
            .Validate(_ => registry.Error is null, registry.Error ?? "")
            .ValidateOnStart();
        services.AddOptions<ReadingOptions>().Bind(configuration.GetSection(ReadingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReadingOptions>, ReadingOptionsValidator>();
        services.AddSingleton(sp => new ReadingExtractor(sp.GetRequiredService<IOptions<ReadingOptions>>().Value));

        services.AddPlatformKafka(configuration, "event-processor");
        services.AddSingleton<ISchemaRegistryClient>(_ =>
        {
            var config = new SchemaRegistryConfig { Url = registry.Url ?? DefaultUrls, RequestTimeoutMs = 5000, MaxCachedSchemas = 10_000 };
            if (registry.UserInfo is not null)
            {
                config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
                config.BasicAuthUserInfo = registry.UserInfo;
            }

            return new CachedSchemaRegistryClient(config);
        });
        services.AddSingleton(Options.Create(new SchemaCacheOptions()));
        services.AddSingleton<SchemaCache>();
        services.AddSingleton<SchemaRegistryProbe>();
        services.AddSingleton<ProcessorMetrics>();
        services.AddSingleton<ProcessorState>();
        services.AddSingleton(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<ProcessorOptions>>().Value.DataDirectory;
            return new ProcessorDataDirectory(configured ?? Path.Combine(DataDirectory.Resolve(configuration), "processor"));
        });
        services.AddSingleton<CheckpointStoreHealthCheck>();
        services.AddHealthChecks()
            .AddReadinessCheck<KafkaHealthCheck>("kafka")
            .AddReadinessCheck<SchemaRegistryHealthCheck>("schema-registry")
            .AddReadinessCheck<CheckpointStoreHealthCheck>("checkpoint-store")
            .AddReadinessCheck<ProcessorState>("job");
        services.AddHostedService<ProcessorService>();
        return services;
    }
}
