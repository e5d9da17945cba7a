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
        };
        if (platform.DevelopmentRegistryUser is { } user)
        {
            settings["SchemaRegistry:BasicAuthUserInfo"] = user;
            settings["SchemaRegistry:BasicAuthCredentialsSource"] = "USER_INFO";
        }

        return settings;
    }

    public static UpSummary Summary(UpPlatform platform)
    {
        var urls = UpPlatform.LocalUrl(platform.Configuration["Sink:Urls"] ?? SinkApp.DefaultUrls);
        var database = platform.Configuration["Sink:DatabasePath"] ?? Path.Combine(platform.DataDirectory, "warehouse.duckdb");
        return new UpSummary(
            [$"  Warehouse sink    {urls}/health/ready   (DuckDB {database}: tables events, aggregated_events; flushes within ~1 s)"],
            Use: [$"  Warehouse rows    after Ctrl-C: duckdb {database} 'SELECT count(*) FROM events'   (DuckDB allows one writing process)"]);
    }
}
