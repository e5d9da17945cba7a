using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>
/// Maps the seed's environment variables (design.md, "Configuration Management") onto the
/// configuration keys the options classes bind, so a deployment written for the seed works as
/// it is. Later sources (command line) still win.
/// </summary>
public static class SeedEnvironment
{
    /// <summary>Seed variable name to configuration key.</summary>
    public static IReadOnlyDictionary<string, string> Map { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["KAFKA_BOOTSTRAP_SERVERS"] = "Kafka:BootstrapServers",
        ["KAFKA_SECURITY_PROTOCOL"] = "Kafka:SecurityProtocol",
        ["KAFKA_SASL_MECHANISM"] = "Kafka:SaslMechanism",
        ["KAFKA_SASL_USERNAME"] = "Kafka:SaslUsername",
        ["KAFKA_SASL_PASSWORD"] = "Kafka:SaslPassword",
        ["SCHEMA_REGISTRY_URL"] = "SchemaRegistry:Url",
        // Confluent's client settings basic.auth.user.info and basic.auth.credentials.source.
        ["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = "SchemaRegistry:BasicAuthUserInfo",
        ["SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE"] = "SchemaRegistry:BasicAuthCredentialsSource",
        ["JWT_SECRET_KEY"] = "Jwt:SecretKey",
        ["JWT_ALGORITHM"] = "Jwt:Algorithm",
        ["CORS_ORIGINS"] = "Cors:Origins",
        ["SNOWFLAKE_ACCOUNT"] = "Snowflake:Account",
        ["SNOWFLAKE_USER"] = "Snowflake:User",
        ["SNOWFLAKE_DATABASE"] = "Snowflake:Database",
        ["SNOWFLAKE_SCHEMA"] = "Snowflake:Schema",
        ["SNOWFLAKE_PRIVATE_KEY"] = "Snowflake:PrivateKey",
        ["SNOWFLAKE_URL"] = "Snowflake:Url",
        ["PROMETHEUS_PORT"] = "Monitoring:PrometheusPort",
        ["GRAFANA_PORT"] = "Monitoring:GrafanaPort",
        ["EVENTPLATFORM_DATA_DIR"] = "DataDir",
        [PlatformLogging.FormatVariable] = PlatformLogging.FormatKey,
    };

    /// <summary>Adds the seed's variables that are set, under their configuration keys.</summary>
    public static IConfigurationBuilder AddSeedEnvironmentVariables(this IConfigurationBuilder builder, Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in Map)
        {
            var value = getVariable(variable);
            if (!string.IsNullOrEmpty(value))
            {
                values[key] = value;
            }
        }

        return builder.AddInMemoryCollection(values);
    }
}
