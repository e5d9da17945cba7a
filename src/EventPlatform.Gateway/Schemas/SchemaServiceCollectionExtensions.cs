using Confluent.SchemaRegistry;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Schemas;

/// <summary>Registration of the gateway's schema validation.</summary>
public static class SchemaServiceCollectionExtensions
{
    /// <summary>
    /// Adds Confluent's registry client (SCHEMA_REGISTRY_URL, with SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO), the schema cache, the gate on the
    /// publish path, the decoders of Avro/Protobuf input and stored records, and the seed schema registration.
    /// </summary>
    public static IServiceCollection AddGatewaySchemas(this IServiceCollection services, IConfiguration configuration)
    {
        var registry = SchemaRegistryClientSettings.From(configuration);
        services.AddOptions<SchemaOptions>()
            .Bind(configuration.GetSection(SchemaOptions.SectionName))
            .Validate(o => !o.Enabled || registry.Url is not null,
                "Gateway:Schemas:Enabled needs SCHEMA_REGISTRY_URL (SchemaRegistry:Url); 'up' starts a registry and sets it. Set Gateway:Schemas:Enabled=false to run without schema validation.")
            .Validate(o => !o.Enabled || registry.Error is null, registry.Error ?? "")
            .ValidateOnStart();
        // The cache reads its part of the gateway's schema options.
        services.AddSingleton<IOptions<SchemaCacheOptions>>(sp => sp.GetRequiredService<IOptions<SchemaOptions>>());

        services.AddSingleton<ISchemaRegistryClient>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            var config = new SchemaRegistryConfig
            {
                Url = registry.Url ?? "http://127.0.0.1:8081",
                RequestTimeoutMs = (int)options.RequestTimeout.TotalMilliseconds,
                MaxCachedSchemas = 10_000,
                // Our cache decides when to look again; the client's own "latest" cache would keep a version forever.
                LatestCacheTtlSecs = 1,
            };
            if (registry.UserInfo is not null)
            {
                // Resolved once for every user of the registry (SASL_INHERIT included), so handed over as user info.
                config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
                config.BasicAuthUserInfo = registry.UserInfo;
            }

            return new CachedSchemaRegistryClient(config);
        });
        services.AddSingleton<SchemaCache>();
        services.AddSingleton<SchemaGate>();
        services.AddSingleton<WireEventDecoder>();
        services.AddSingleton<StoredEventDecoder>();
        services.AddSingleton<SeedSchemaRegistration>();
        services.AddHostedService(sp => sp.GetRequiredService<SeedSchemaRegistration>());
        return services;
    }
}
