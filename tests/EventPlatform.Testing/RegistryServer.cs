using EventPlatform.Kafka.Embedded;
using EventPlatform.SchemaRegistry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Testing;

/// <summary>A real schema registry (Kestrel on a free loopback port) keeping its state in the embedded broker.</summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private RegistryServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>The base address as Confluent's clients take it (no trailing slash).</summary>
    public string Url => BaseAddress.ToString().TrimEnd('/');

    public HttpClient Client { get; }

    /// <param name="cluster">The broker holding the registry's topic.</param>
    /// <param name="topic">The registry's topic: instances given the same one share their state.</param>
    /// <param name="settings">More settings.</param>
    public static async Task<RegistryServer> StartAsync(EmbeddedKafkaCluster cluster, string topic = "_schemas", IReadOnlyDictionary<string, string?>? settings = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Registry:Urls"] = "http://127.0.0.1:0",
            ["Registry:Topic"] = topic,
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var app = RegistryApp.Create([], overrides, services => services.AddSingleton(cluster));
        await app.StartAsync().ConfigureAwait(false);
        return new RegistryServer(app, new Uri(app.Urls.First().TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
