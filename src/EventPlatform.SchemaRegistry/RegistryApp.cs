using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Errors;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Hosting.Metrics;
using EventPlatform.SchemaRegistry.Api;
using EventPlatform.SchemaRegistry.Registry;
using EventPlatform.Schemas;
using EventPlatform.SchemaRegistry.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.SchemaRegistry;

/// <summary>Builds the schema registry as a web application: for the <c>registry</c> and <c>up</c> commands, and tests.</summary>
public static class RegistryApp
{
    /// <summary>The Kafka client id of the registry's producer.</summary>
    public const string KafkaClientId = "eventplatform-schema-registry";

    /// <param name="args">Command-line arguments (configuration overrides such as --Registry:Urls=...).</param>
    /// <param name="overrides">Settings that beat the environment but not the command line.</param>
    /// <param name="configureServices">Extra registrations (the embedded broker).</param>
    public static WebApplication Create(
        string[] args,
        IReadOnlyDictionary<string, string?>? overrides = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = PlatformWebApplication.CreateBuilder(args, overrides);

        var options = builder.Configuration.GetSection(RegistryOptions.SectionName).Get<RegistryOptions>() ?? new RegistryOptions();
        builder.WebHost.UseUrls(options.Urls.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        ConnectionLimits.Apply(builder, RegistryOptions.SectionName, ConnectionLimits.ServiceShare);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // A backstop for the API's own limit (RegistryBodyLimit), which answers in Confluent's format.
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.Services.AddSchemaRegistry(builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapSchemaRegistry();
        return app;
    }

    /// <summary>The registry's services: Kafka store, formats, operations, metrics, authentication, readiness (Kafka, the store read to its end).</summary>
    public static IServiceCollection AddSchemaRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RegistryOptions>()
            .Bind(configuration.GetSection(RegistryOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => SchemaRegistryService.TryParseLevel(o.DefaultCompatibility, out _), "Registry:DefaultCompatibility must be a Confluent compatibility level (NONE, BACKWARD, ..., FULL_TRANSITIVE).")
            .ValidateOnStart();
        services.AddPlatformKafka(configuration, KafkaClientId);
        services.AddPlatformMetrics();
        services.AddSingleton(SchemaFormats.All);
        services.AddSingleton<KafkaSchemaLog>();
        services.AddHostedService(sp => sp.GetRequiredService<KafkaSchemaLog>());
        services.AddSingleton<SchemaRegistryService>();
        services.AddSingleton<RegistryMetrics>();
        services.AddRegistrySecurity(configuration);
        services.AddSingleton<SchemaStoreHealthCheck>();
        services.AddHealthChecks()
            .AddReadinessCheck<KafkaHealthCheck>("kafka")
            .AddReadinessCheck<SchemaStoreHealthCheck>("schema-store");
        return services;
    }

    /// <summary>The middleware pipeline and the routes.</summary>
    public static WebApplication MapSchemaRegistry(this WebApplication app)
    {
        app.UsePlatformHttpMetrics();
        app.Services.GetRequiredService<RegistryMetrics>(); // instruments exist before the first scrape
        app.UseRequestIds();
        app.UseRegistryErrors();
        app.UseRegistryBodyLimit();
        app.UseRegistrySecurity();
        app.MapPlatformMetrics();
        app.MapPlatformHealth();
        app.MapRegistryApi();
        return app;
    }
}
