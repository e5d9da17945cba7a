using Confluent.SchemaRegistry;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using EventPlatform.Hosting.Workers;
using EventPlatform.Schemas.Client;
using EventPlatform.Hosting.Auth;
using EventPlatform.Sink.Configuration;
using EventPlatform.Sink.Connect;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Sink;

/// <summary>The sink service: its host and its registration.</summary>
public static class SinkApp
{
    /// <summary>
    /// Where the sink listens by default: 8083, Kafka Connect's port. As a Connect worker does, it
    /// serves everything there: the Connect REST API, <c>/health/*</c>, <c>/metrics</c> and <c>/query</c>.
    /// </summary>
    public const string DefaultUrls = "http://127.0.0.1:8083";

    /// <summary>The sink as a worker host: the Connect REST API, <c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c>.</summary>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = PlatformWorkerApplication.CreateBuilder(args, SinkOptions.SectionName, DefaultUrls, overrides);
        builder.Services.AddSink(builder.Configuration);
        configureServices?.Invoke(builder.Services);
        var app = builder.BuildWorker();
        app.MapConnectApi();
        app.MapQueryApi();
        return app;
    }

    /// <summary>
    /// Adds the sink: Kafka (consumers, the DLQ producer), the registry client and schema cache, the
    /// DuckDB warehouse under the data directory, the transformer, the worker and readiness checks
    /// for Kafka, the registry, the warehouse and the connectors' tasks.
    /// </summary>
    public static IServiceCollection AddSink(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPlatformKafka(configuration, "eventplatform-sink");
        services.AddOptions<SinkOptions>()
            .Bind(configuration.GetSection(SinkOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var registry = SchemaRegistryClientSettings.From(configuration);
        services.AddOptions<SchemaCacheOptions>()
            .Bind(configuration.GetSection(SinkOptions.SectionName + ":Schemas"))
            .Validate(_ => registry.Url is not null, "The sink decodes Confluent wire-format records: set SCHEMA_REGISTRY_URL (SchemaRegistry:Url); 'up' sets it.")
            .Validate(_ => registry.Error is null, registry.Error ?? "")
            .ValidateOnStart();
        services.AddSingleton<ISchemaRegistryClient>(sp =>
        {
            var cache = sp.GetRequiredService<IOptions<SchemaCacheOptions>>().Value;
            var config = new SchemaRegistryConfig
            {
                Url = registry.Url ?? "http://127.0.0.1:8081",
                RequestTimeoutMs = (int)cache.RequestTimeout.TotalMilliseconds,
                MaxCachedSchemas = 10_000,
            };
            if (registry.UserInfo is not null)
            {
                config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
                config.BasicAuthUserInfo = registry.UserInfo;
            }

            return new CachedSchemaRegistryClient(config);
        });
        services.AddSingleton<SchemaCache>();
        services.AddSingleton<ISinkSchemaLookup, SchemaCacheSinkLookup>();
        services.AddSingleton<SinkTransformer>();
        services.AddSingleton<SinkMetrics>();
        services.AddSingleton<SchemaRegistryProbe>();
        services.AddSingleton(_ => ResolveConnector(configuration));
        services.AddSingleton<IWarehouseDestination>(sp =>
        {
            var path = sp.GetRequiredService<IOptions<SinkOptions>>().Value.DatabasePath
                ?? Path.Combine(DataDirectory.Resolve(configuration), "warehouse.duckdb");
            return new DuckDbDestination(path);
        });
        services.AddOptions<JwtOptions>().Bind(configuration.GetSection(JwtOptions.SectionName));
        services.AddSingleton<ConnectAuthenticator>();
        services.AddSingleton<IConnectorStore>(sp =>
        {
            var sink = sp.GetRequiredService<IOptions<SinkOptions>>().Value;
            return sink.ConfigStorage.Equals("kafka", StringComparison.OrdinalIgnoreCase)
                ? new KafkaConnectorStore(sp.GetRequiredService<IOptions<KafkaOptions>>().Value, sink.ConfigTopic, sp.GetRequiredService<ITopicProvisioner>(),
                    sp.GetRequiredService<ServiceFailure>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Sink.Configs"))
                : new ConnectorStore(sink.ConnectorDirectory ?? Path.Combine(DataDirectory.Resolve(configuration), "connect"));
        });
        services.AddSingleton<ConnectWorker>();
        services.AddSingleton<WarehouseHealthCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectWorker>());
        services.AddHealthChecks()
            .AddReadinessCheck<KafkaHealthCheck>("kafka")
            .AddReadinessCheck<SchemaRegistryHealthCheck>("schema-registry")
            .AddReadinessCheck<WarehouseHealthCheck>("warehouse")
            .AddReadinessCheck<ConnectorsHealthCheck>("connectors");
        return services;
    }

    /// <summary>The connector: the seed's JSON file if given, with <c>Sink:Connector:*</c> keys on top; otherwise the defaults.</summary>
    public static SinkConnectorConfig ResolveConnector(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SinkOptions.SectionName);
        var file = section[nameof(SinkOptions.ConnectorConfigFile)];
        var baseConfig = string.IsNullOrWhiteSpace(file)
            ? SinkConnectorConfig.Default()
            : SinkConnectorConfig.Parse(File.ReadAllText(file), Environment.GetEnvironmentVariable);
        var overrides = section.GetSection(nameof(SinkOptions.Connector)).GetChildren().Where(c => c.Value is not null).ToList();
        if (overrides.Count == 0)
        {
            return baseConfig;
        }

        var values = new Dictionary<string, string>(baseConfig.Values, StringComparer.Ordinal);
        foreach (var entry in overrides)
        {
            values[entry.Key] = entry.Value!;
        }

        return SinkConnectorConfig.FromValues(values.GetValueOrDefault("name") ?? baseConfig.Name, values, Environment.GetEnvironmentVariable);
    }
}
