using System.Net;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Processor.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventPlatform.Processor.Tests;

/// <summary>The processor's worker host: settings checked at start, readiness while the registry is away.</summary>
public sealed class ProcessorAppTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null, BrokerCount = 1 });

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task Readiness_is_unhealthy_and_says_why_while_the_registry_does_not_answer()
    {
        // A port nobody listens on: the registry is unreachable.
        await using var app = ProcessorApp.Create([], Settings(("SchemaRegistry:Url", "http://127.0.0.1:9")));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
            var state = app.Services.GetRequiredService<ProcessorState>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            HealthCheckResult result;
            do
            {
                await Task.Delay(100);
                result = await state.CheckHealthAsync(new HealthCheckContext());
            }
            while (!result.Description!.Contains("schema registry unreachable", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Contains("http://127.0.0.1:9", result.Description, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/ready")).StatusCode);
            Assert.Contains("processor_registry_retries_total", await http.GetStringAsync("metrics"), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task A_bad_window_setting_stops_the_start_with_its_name()
    {
        await using var app = ProcessorApp.Create([], Settings(("SchemaRegistry:Url", "http://127.0.0.1:9"), ("Processor:Windows:0:Kind", "Sliding"), ("Processor:Windows:0:Size", "00:05:00")));
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Processor:Windows:0", failure.Message, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Settings(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Processor:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Processor:DataDirectory"] = Path.Combine(Path.GetTempPath(), "processor-app-" + Guid.NewGuid().ToString("N")),
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
}
