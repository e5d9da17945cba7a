using System.CommandLine;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway;
using EventPlatform.Kafka.Embedded;
using EventPlatform.SchemaRegistry;
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
        // and reads its schemas there when it starts.
        var externalRegistry = configuration["SchemaRegistry:Url"];
        var registryUrls = configuration["Registry:Urls"] ?? "http://127.0.0.1:8081";
        await using var registry = string.IsNullOrWhiteSpace(externalRegistry)
            ? RegistryApp.Create(args, new Dictionary<string, string?> { ["Registry:Urls"] = registryUrls, ["Kafka:BootstrapServers"] = bootstrap }, services =>
            {
                if (cluster is not null)
                {
                    services.AddSingleton(cluster);
                }
            })
            : null;
        if (registry is not null)
        {
            await registry.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        var registryUrl = externalRegistry ?? LocalUrl(registryUrls);
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Urls"] = urls,
            ["Jwt:SecretKey"] = jwt.SecretKey,
            ["Kafka:BootstrapServers"] = bootstrap,
            ["SchemaRegistry:Url"] = registryUrl,
        };

        await using var app = GatewayApp.Create(args, overrides, services =>
        {
            if (cluster is not null)
            {
                services.AddSingleton(cluster);
            }
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        PrintBanner(app, cluster, external, urls, registryUrl, jwt);
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        if (registry is not null)
        {
            await registry.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        Console.WriteLine("Stopped: every accepted event was acknowledged by Kafka before its response was sent, and the producer has flushed.");
        return 0;
    }

    private static string LocalUrl(string urls) => urls.Split([',', ';'])[0].Trim().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');

    private static void PrintBanner(WebApplication app, EmbeddedKafkaCluster? cluster, string? external, string urls, string registryUrl, Hosting.Auth.JwtOptions jwt)
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
            $"  Schema registry   {registryUrl}   (Confluent Schema Registry API: GET {registryUrl}/subjects)",
            $"  Publish           POST {gateway}/api/v1/events/{{topic}}   (and /batch)",
            $"  Health            GET  {gateway}/api/v1/health",
            $"  API docs          {gateway}/docs   (OpenAPI: {gateway}/openapi/v1.json)",
            $"  Topics            {string.Join(", ", plan.Topics.Select(t => $"{t.Name} ({t.Partitions})"))}",
            "",
            PlatformSettings.IsDevelopmentSecret
                ? "  Development JWT (signed with the development secret in ./data; mint more with the 'token' command):"
                : "  JWT (signed with JWT_SECRET_KEY; mint more with the 'token' command):",
            "  export TOKEN=" + PlatformSettings.DevelopmentToken(jwt),
            "",
            $"  Try:  curl -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
            $"          -d '{{\"event_id\":\"evt_1\",\"timestamp\":\"2024-01-15T10:30:00Z\",\"event_type\":\"iot.sensor\",\"device_id\":\"device_456\",\"payload\":{{\"temperature\":22.5}}}}' \\",
            $"          {gateway}/api/v1/events/iot.sensors",
            "",
        };
        if (cluster is not null)
        {
            lines.Add("  NOTE: " + EmbeddedBroker.InMemoryWarning);
            lines.Add("");
        }

        lines.Add("Press Ctrl-C to stop.");
        Console.WriteLine(string.Join(Environment.NewLine, lines));
    }
}
