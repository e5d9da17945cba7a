using EventPlatform.Sink;

namespace EventPlatform.Cli.Commands;

/// <summary>What <c>up</c> decides for its sink (kept beside <see cref="UpCommand"/> so its list gains one entry only).</summary>
internal static class UpSinkSettings
{
    public static Dictionary<string, string?> For(UpPlatform platform)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sink:Urls"] = platform.Configuration["Sink:Urls"] ?? SinkApp.DefaultUrls,
            ["Kafka:BootstrapServers"] = platform.Bootstrap,
            ["SchemaRegistry:Url"] = platform.RegistryUrl,
            // The Connect REST API takes the same platform tokens as the gateway.
            ["Jwt:SecretKey"] = platform.Jwt.SecretKey,
            ["Sink:ThreadNiceness"] = platform.Configuration["Sink:ThreadNiceness"] ?? UpCommand.DownstreamNiceness,
        };
        platform.AddRegistryClientCredentials(settings);
        return settings;
    }

    public static UpSummary Summary(UpPlatform platform)
    {
        var urls = UpPlatform.LocalUrl(platform.Configuration["Sink:Urls"] ?? SinkApp.DefaultUrls);
        var database = platform.Configuration["Sink:DatabasePath"] ?? Path.Combine(platform.DataDirectory, "warehouse.duckdb");
        return new UpSummary(
            [
                $"  Warehouse sink    {urls}/health/ready   (DuckDB {database}: tables events, aggregated_events; flushes within ~1 s)",
                $"  Kafka Connect API {urls}/connectors     (bearer token as for the gateway; the default connector is listed there)",
            ],
            Use:
            [
                $"  Warehouse rows    eventplatform query \"SELECT event_type, count(*) FROM events GROUP BY 1\"   (through the running sink; --url {urls}, TOKEN from below)",
                $"  Connectors        curl -H \"Authorization: Bearer $TOKEN\" {urls}/connectors/eventplatform-sink/status",
            ]);
    }
}
