using EventPlatform.Kafka.Embedded;
using EventPlatform.Processor.Service;
using EventPlatform.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventPlatform.Processor.Tests;

/// <summary>
/// Random requests against the processor's listener (health, readiness, metrics and everything else):
/// a 2xx or a 4xx, never a 5xx, except readiness's 503, which is its answer while the registry is away
/// (kept away here on purpose, so the failing branch of readiness is the one exercised).
/// </summary>
public sealed class HttpEndpointFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] KnownPaths = ["/", "/health/live", "/health/ready", "/metrics", "/health", "/health/", "/metrics/", "/docs", "/api/v1/events"];

    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null, BrokerCount = 1 });
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        _app = ProcessorApp.Create([], new Dictionary<string, string?>
        {
            ["Processor:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            ["SchemaRegistry:Url"] = "http://127.0.0.1:9",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Processor:DataDirectory"] = Path.Combine(Path.GetTempPath(), "processor-fuzz-" + Guid.NewGuid().ToString("N")),
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _cluster.Dispose();
    }

    [Fact]
    public async Task Random_paths_methods_and_bodies_get_a_2xx_or_4xx_never_a_5xx()
    {
        var address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var statuses = await ListenerFuzz.RunAsync(address, KnownPaths, seed: 4242);

        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        // The known endpoints were reached, not only 404s.
        Assert.True(statuses.GetValueOrDefault(200) > 0, "no request was answered 200");
        Assert.True(statuses.GetValueOrDefault(404) > 0, "no request was answered 404");
    }
}
