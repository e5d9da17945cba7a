using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Schemas;

/// <summary>Registration of the gateway's schema validation.</summary>
public static class SchemaServiceCollectionExtensions
{
    /// <summary>
    /// Adds Confluent's registry client (SCHEMA_REGISTRY_URL), the schema cache, the gate on the
    /// publish path, the decoders of Avro/Protobuf input and stored records, and the seed schema registration.
    /// </summary>
    public static IServiceCollection AddGatewaySchemas(this IServiceCollection services, IConfiguration configuration)
    {
        var url = configuration["SchemaRegistry:Url"];
        services.AddOptions<SchemaOptions>()
            .Bind(configuration.GetSection(SchemaOptions.SectionName))
            .Validate(o => !o.Enabled || !string.IsNullOrWhiteSpace(url),
                "Gateway:Schemas:Enabled needs SCHEMA_REGISTRY_URL (SchemaRegistry:Url); 'up' starts a registry and sets it. Set Gateway:Schemas:Enabled=false to run without schema validation.")
            .ValidateOnStart();

        services.AddSingleton<ISchemaRegistryClient>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            return new CachedSchemaRegistryClient(new SchemaRegistryConfig
            {
                Url = url ?? "http://127.0.0.1:8081",
                RequestTimeoutMs = (int)options.RequestTimeout.TotalMilliseconds,
                MaxCachedSchemas = 10_000,
                // Our cache decides when to look again; the client's own "latest" cache would keep a version forever.
                LatestCacheTtlSecs = 1,
            });
        });
        services.AddSingleton<GatewaySchemas>();
        services.AddSingleton<SchemaGate>();
        services.AddSingleton<WireEventDecoder>();
        services.AddSingleton<StoredEventDecoder>();
        services.AddSingleton<SeedSchemaRegistration>();
        services.AddHostedService(sp => sp.GetRequiredService<SeedSchemaRegistration>());
        return services;
    }
}
