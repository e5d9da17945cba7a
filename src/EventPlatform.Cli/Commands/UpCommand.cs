using System.CommandLine;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway;
using EventPlatform.Hosting.Auth;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.SchemaRegistry;
using EventPlatform.SchemaRegistry.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>up</c>: the whole platform in one process. Without KAFKA_BOOTSTRAP_SERVERS it starts the
/// embedded broker first (bootstrap 127.0.0.1:9092) and stops it last, after the gateway has
/// drained its requests and the producer has flushed.
/// </summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var command = new Command("up", "Start the platform: embedded Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS is set), topics, the schema registry on http://127.0.0.1:8081 (unless SCHEMA_REGISTRY_URL is set) and the gateway on http://127.0.0.1:8000. " +
            "Extra --Section:Key=value arguments override settings (e.g. --Gateway:DynamicTopics=true).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, ct) => RunAsync([.. parse.UnmatchedTokens], ct));
        return command;
    }

    private static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var configuration = PlatformSettings.Load(args);
        var external = configuration["Kafka:BootstrapServers"];
        using var cluster = string.IsNullOrWhiteSpace(external) ? EmbeddedBroker.Start(configuration) : null;

        var jwt = PlatformSettings.Jwt(configuration, allowDevelopmentSecret: true);
        var urls = configuration["Gateway:Urls"] ?? "http://127.0.0.1:8000";
        var bootstrap = cluster?.BootstrapServers ?? external;

        // The registry first (unless SCHEMA_REGISTRY_URL names another one): the gateway registers
        // and reads its schemas there when it starts, as the development user with every right.
        var externalRegistry = configuration["SchemaRegistry:Url"];
        var registryUrls = configuration["Registry:Urls"] ?? "http://127.0.0.1:8081";
        var dataDirectory = DataDirectory.Resolve(configuration);
        var devCredentials = string.IsNullOrWhiteSpace(externalRegistry)
            ? DataDirectory.GetOrCreateDevelopmentRegistryCredentials(dataDirectory)
            : null;
        await using var registry = devCredentials is not null
            ? RegistryApp.Create(args, RegistrySettings(registryUrls, bootstrap, jwt, devCredentials), services =>
            {
                if (cluster is not null)
                {
                    services.AddSingleton(cluster);
                }
            })
            : null;
        if (registry is not null && await ServiceRun.TryStartAsync(registry, "schema registry", cancellationToken).ConfigureAwait(false) is { } registryFailed)
        {
            return registryFailed;
        }

        var registryUrl = externalRegistry ?? LocalUrl(registryUrls);
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Urls"] = urls,
            ["Jwt:SecretKey"] = jwt.SecretKey,
            ["Kafka:BootstrapServers"] = bootstrap,
            ["SchemaRegistry:Url"] = registryUrl,
        };
        if (devCredentials is not null)
        {
            // Our own registry: the gateway uses the development user. An external one: the
            // configured SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO reaches the gateway as it is.
            overrides["SchemaRegistry:BasicAuthUserInfo"] = devCredentials;
            overrides["SchemaRegistry:BasicAuthCredentialsSource"] = "USER_INFO";
        }

        await using var app = GatewayApp.Create(args, overrides, services =>
        {
            if (cluster is not null)
            {
                services.AddSingleton(cluster);
            }
        });
        if (await ServiceRun.TryStartAsync(app, "gateway", cancellationToken).ConfigureAwait(false) is { } gatewayFailed)
        {
            await StopAsync(registry).ConfigureAwait(false);
            return gatewayFailed;
        }

        // One platform: a part that stops for good (its state topic failed) stops the other too.
        using var registryStops = registry?.Lifetime.ApplicationStopping.Register(app.Lifetime.StopApplication);
        PrintBanner(app, cluster, external, urls, registryUrl, jwt, devCredentials, dataDirectory);
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        await StopAsync(registry).ConfigureAwait(false);

        var exitCode = Math.Max(ServiceRun.ExitCode(app), registry is null ? 0 : ServiceRun.ExitCode(registry));
        Console.WriteLine(exitCode == 0
            ? "Stopped: every accepted event was acknowledged by Kafka before its response was sent, and the producer has flushed."
            : $"Stopped after a failure (exit code {exitCode}); see the critical log line above.");
        return exitCode;
    }

    private static async Task StopAsync(WebApplication? registry)
    {
        if (registry is not null)
        {
            await registry.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>What <c>up</c> decides for its registry: where it listens, its broker, and who may use it.</summary>
    private static Dictionary<string, string?> RegistrySettings(string urls, string? bootstrap, JwtOptions jwt, string devCredentials)
    {
        var colon = devCredentials.IndexOf(':', StringComparison.Ordinal);
        var user = devCredentials[..colon];
        return new Dictionary<string, string?>
        {
            ["Registry:Urls"] = urls,
            ["Kafka:BootstrapServers"] = bootstrap,
            // The same secret as the gateway's, so one platform token (with schemas:* scopes) works for both.
            ["Jwt:SecretKey"] = jwt.SecretKey,
            [$"Registry:Auth:Users:{user}:Password"] = devCredentials[(colon + 1)..],
            [$"Registry:Auth:Users:{user}:Scopes"] = RegistryScopes.Admin,
        };
    }

    private static string LocalUrl(string urls) => urls.Split([',', ';'])[0].Trim().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');

    private static void PrintBanner(WebApplication app, EmbeddedKafkaCluster? cluster, string? external, string urls, string registryUrl, JwtOptions jwt, string? devCredentials, string dataDirectory)
    {
        var plan = app.Services.GetRequiredService<TopicPlan>();
        var gateway = LocalUrl(urls);
        var lines = new List<string>
        {
            "",
            "Event platform is up.",
            "",
            cluster is not null
                ? $"  Kafka bootstrap   {cluster.BootstrapServers}   (embedded, {cluster.BrokerCount} brokers)"
                : $"  Kafka bootstrap   {external}",
            $"  Gateway           {gateway}",
            devCredentials is not null
                ? $"  Schema registry   {registryUrl}   (Confluent Schema Registry API: anonymous reads; writes need the user below)"
                : $"  Schema registry   {registryUrl}   (external; {(SchemaRegistryClientSettings.From(app.Configuration).UserInfo is null ? "no credentials configured" : "the gateway uses the configured basic.auth.user.info")})",
            $"  Publish           POST {gateway}/api/v1/events/{{topic}}   (and /batch)",
            $"  Health            GET  {gateway}/api/v1/health",
            $"  API docs          {gateway}/docs   (OpenAPI: {gateway}/openapi/v1.json)",
            $"  Topics            {string.Join(", ", plan.Topics.Select(t => $"{t.Name} ({t.Partitions})"))}",
            "",
        };
        if (devCredentials is not null)
        {
            lines.Add($"  Registry user (every right; kept in {Path.Combine(dataDirectory, DataDirectory.DevelopmentRegistryCredentialsFile)}):");
            lines.Add($"  export SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO='{devCredentials}'   (Confluent clients: basic.auth.user.info)");
            lines.Add($"  curl -u \"$SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO\" {registryUrl}/subjects");
            lines.Add("");
        }

        if (PlatformSettings.IsDevelopmentSecret)
        {
            // A token signed with a production secret is not printed: the console may be logged.
            lines.Add($"  Development JWT (signed with the development secret in {dataDirectory}; mint more with the 'token' command,");
            lines.Add("  'token --scope schemas:admin' for one the registry takes too):");
            lines.Add("  export TOKEN=" + PlatformSettings.DevelopmentToken(jwt));
            lines.Add("");
            lines.Add($"  Try:  curl -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\");
            lines.Add($"          -d '{{\"event_id\":\"evt_1\",\"timestamp\":\"2024-01-15T10:30:00Z\",\"event_type\":\"iot.sensor\",\"device_id\":\"device_456\",\"payload\":{{\"temperature\":22.5}}}}' \\");
            lines.Add($"          {gateway}/api/v1/events/iot.sensors");
        }
        else
        {
            lines.Add("  Tokens are signed with JWT_SECRET_KEY: mint one with the 'token' command.");
        }

        lines.Add("");
        if (cluster is not null)
        {
            lines.Add("  NOTE: " + EmbeddedBroker.InMemoryWarning);
            lines.Add("");
        }

        lines.Add("Press Ctrl-C to stop.");
        Console.WriteLine(string.Join(Environment.NewLine, lines));
    }
}
