using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Issue 12, item 6: every service's readiness follows its real dependencies, with the services as
/// separate processes. The <c>broker</c> process is SIGKILLed and started again on the same port
/// (the embedded broker comes back empty), then the registry process is SIGKILLed and started
/// again on its port: the readiness of each service that needs the lost dependency goes 503, naming
/// it, and comes back 200 when it returns. The registry itself stays unready after the broker came
/// back empty (its copy holds schemas the store lost) until it is restarted.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReadinessUnderOutagesTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How long a change may take to show: generous, the machine is small and shared.</summary>
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);

    private readonly List<CliProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    [Fact]
    public async Task Readiness_goes_503_when_the_broker_or_the_registry_is_killed_and_200_when_it_is_back()
    {
        var clock = Stopwatch.StartNew();
        var brokerPort = PlatformProcesses.FreePort();
        var broker = await StartBrokerAsync(brokerPort);
        var bootstrap = $"127.0.0.1:{brokerPort}";
        var registryUrl = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var registry = await StartRegistryAsync(registryUrl, bootstrap);
        var registryAddress = registryUrl.ToString().TrimEnd('/');

        var gatewayUrl = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var processorUrl = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var sinkUrl = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var environment = PlatformProcesses.GatewayEnvironment(bootstrap, registryAddress);
        Start(CliProcess.Start("gateway", ["gateway", $"--Gateway:Urls={Listen(gatewayUrl)}", "--Logging:LogLevel:Default=Warning"], environment));
        Start(CliProcess.Start("processor", ["processor", $"--Processor:Urls={Listen(processorUrl)}", "--Logging:LogLevel:Default=Warning"], environment));
        Start(CliProcess.Start("sink", ["sink", $"--Sink:Urls={Listen(sinkUrl)}", "--Logging:LogLevel:Default=Warning"], environment));

        var registryReady = new Uri(registryUrl, "health/ready");
        var clients = new Dictionary<string, Uri>
        {
            ["gateway"] = new(gatewayUrl, "health/ready"),
            ["processor"] = new(processorUrl, "health/ready"),
            ["sink"] = new(sinkUrl, "health/ready"),
        };
        var all = new Dictionary<string, Uri>(clients) { ["registry"] = registryReady };
        await WaitAllAsync(all, HttpStatusCode.OK, null, "started");
        foreach (var (name, url) in all)
        {
            await AssertLivenessAsync(name, url);
        }

        // The broker dies (SIGKILL: no shutdown code runs) and comes back on its port, empty.
        broker.Kill();
        await WaitAllAsync(all, HttpStatusCode.ServiceUnavailable, "kafka", "broker killed");
        foreach (var (name, url) in all)
        {
            await AssertLivenessAsync(name, url);
        }

        await broker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        broker = await StartBrokerAsync(brokerPort);
        await WaitAllAsync(clients, HttpStatusCode.OK, null, "broker restarted");

        // The registry had read schemas the broker no longer has: it must not call itself ready on that copy.
        await WaitAllAsync(new Dictionary<string, Uri> { ["registry"] = registryReady }, HttpStatusCode.ServiceUnavailable, "schema-store", "broker restarted empty");

        // The registry dies and comes back on its address.
        registry.Kill();
        await WaitAllAsync(clients, HttpStatusCode.ServiceUnavailable, "schema-registry", "registry killed");
        await registry.WaitForExitAsync(TimeSpan.FromSeconds(30));
        registry = await StartRegistryAsync(registryUrl, bootstrap);
        await WaitAllAsync(all, HttpStatusCode.OK, null, "registry restarted");
        output.WriteLine($"done after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private CliProcess Start(CliProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private async Task<CliProcess> StartBrokerAsync(int port)
    {
        var broker = Start(CliProcess.Start("broker", ["broker", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--Embedded:GroupInitialRebalanceDelay=00:00:00"]));
        await broker.WaitForLineAsync(l => l.StartsWith("KAFKA_BOOTSTRAP_SERVERS=", StringComparison.Ordinal), PlatformProcesses.StartTimeout);
        return broker;
    }

    private async Task<CliProcess> StartRegistryAsync(Uri url, string bootstrap)
    {
        var registry = Start(CliProcess.Start("registry", ["registry", $"--Registry:Urls={Listen(url)}", "--Logging:LogLevel:Default=Warning"], PlatformProcesses.RegistryEnvironment(bootstrap)));
        await registry.WaitForHealthyAsync(new Uri(url, "health/live"), PlatformProcesses.StartTimeout);
        return registry;
    }

    private static string Listen(Uri url) => url.ToString().TrimEnd('/');

    /// <summary>Liveness does not follow dependencies: 200 whatever readiness says.</summary>
    private async Task AssertLivenessAsync(string name, Uri ready)
    {
        using var response = await _http.GetAsync(new Uri(ready, "live"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name} liveness answered {(int)response.StatusCode}");
    }

    /// <summary>
    /// Polls every readiness URL until each answers <paramref name="status"/> (with
    /// <paramref name="unhealthyCheck"/> named unhealthy in its JSON body, when given), failing after
    /// <see cref="Eventually"/> with the last answers and the processes' output.
    /// </summary>
    private async Task WaitAllAsync(IReadOnlyDictionary<string, Uri> urls, HttpStatusCode status, string? unhealthyCheck, string phase)
    {
        var clock = Stopwatch.StartNew();
        var waiting = new Dictionary<string, Uri>(urls);
        var last = new Dictionary<string, string>();
        while (waiting.Count > 0)
        {
            foreach (var (name, url) in waiting.ToList())
            {
                var (code, body) = await GetAsync(url);
                last[name] = $"{code} {body}";
                if (code == status && (unhealthyCheck is null || NamesUnhealthy(body, unhealthyCheck)))
                {
                    waiting.Remove(name);
                }
            }

            if (waiting.Count > 0 && clock.Elapsed > Eventually)
            {
                var outputs = string.Join("\n\n", _processes.Select(p => $"--- {p.Name} (exited: {p.HasExited}):\n{Tail(p.Output)}"));
                Assert.Fail($"{phase}: after {Eventually.TotalSeconds:0} s still not {(int)status}: " +
                    string.Join("; ", waiting.Keys.Select(n => $"{n}: {last[n]}")) + "\n" + outputs);
            }

            if (waiting.Count > 0)
            {
                await Task.Delay(250);
            }
        }

        output.WriteLine($"{phase}: all {(int)status} after {clock.Elapsed.TotalSeconds:0.0} s; " + string.Join("; ", urls.Keys.Select(n => $"{n}: {last[n]}")));
    }

    private static string Tail(string text) => text.Length <= 8000 ? text : text[^8000..];

    private async Task<(HttpStatusCode? Code, string Body)> GetAsync(Uri url)
    {
        try
        {
            using var response = await _http.GetAsync(url);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
        catch (TaskCanceledException)
        {
            return (null, "timed out");
        }
    }

    private static bool NamesUnhealthy(string body, string check)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("checks").TryGetProperty(check, out var entry)
                && entry.GetProperty("status").GetString() == "Unhealthy";
        }
        catch (JsonException)
        {
            return false;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }
}
