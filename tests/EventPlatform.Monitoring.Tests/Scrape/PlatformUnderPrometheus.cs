using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests.Scrape;

/// <summary>
/// The platform as it runs (the <c>broker</c> command and <c>up</c> as child processes, every
/// listener on a free port) scraped every second by a real Prometheus with the deployed
/// configuration and rules, while events (some of them late, so the DLQ fills) go through the
/// gateway. Started once for the tests of <see cref="PrometheusScrapeTests"/>.
/// </summary>
public sealed class PlatformUnderPrometheus : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _parts = [];
    private CancellationTokenSource? _load;
    private Task? _loadTask;

    internal PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>What went through the gateway, and what it answered.</summary>
    public int Accepted { get; private set; }

    public async Task InitializeAsync()
    {
        if (!PrometheusServer.Installed)
        {
            return;
        }

        var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
        _parts.Add(broker);
        var ports = new Dictionary<int, int>
        {
            [8000] = PlatformProcesses.FreePort(),
            [8081] = PlatformProcesses.FreePort(),
            [8082] = PlatformProcesses.FreePort(),
            [8083] = PlatformProcesses.FreePort(),
            [9308] = PlatformProcesses.FreePort(),
        };
        var up = CliProcess.Start("up",
        [
            "up",
            Listen("Gateway", ports[8000]), Listen("Registry", ports[8081]), Listen("Processor", ports[8082]),
            Listen("Sink", ports[8083]), Listen("Monitor", ports[9308]),
            // The exporter reads the cluster every second, so lag seconds move within the test.
            "--Monitor:PollInterval=00:00:01", "--Monitor:RateWindow=00:00:10",
            // One client drives the load: the default 100 requests a minute would cap it.
            "--Gateway:RateLimit:PermitsPerWindow=1000000",
        ], new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap,
            ["JWT_SECRET_KEY"] = PlatformProcesses.JwtSecret,
        });
        _parts.Add(up);
        var gateway = new Uri($"http://127.0.0.1:{ports[8000]}/");
        await up.WaitForHealthyAsync(new Uri(gateway, "api/v1/health"), PlatformProcesses.StartTimeout);
        await up.WaitForHealthyAsync(new Uri($"http://127.0.0.1:{ports[8083]}/health/ready"), PlatformProcesses.StartTimeout);
        await up.WaitForHealthyAsync(new Uri($"http://127.0.0.1:{ports[8082]}/health/ready"), PlatformProcesses.StartTimeout);

        Prometheus = await PrometheusServer.StartAsync(PrometheusServer.Configuration(ports));
        _parts.Add(Prometheus);

        _load = new CancellationTokenSource();
        var client = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("prometheus-test"));
        _loadTask = Task.Run(() => DriveLoadAsync(client, _load.Token));
        // Enough samples for rate() over every window the rules and panels use.
        await Prometheus.WaitForDataAsync("sum(rate(http_requests_total{job=\"gateway\"}[1m])) > 0", TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Events now, on every event topic; every tenth an hour old (by then the processor's windows for
    /// that hour have closed, so it goes to the DLQ as a late event) and every 25th without an id
    /// (the gateway refuses it: events_rejected_total, 4xx).
    /// </summary>
    private async Task DriveLoadAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var _ = client;
        string[] topics = ["iot.sensors", "clickstream", "transactions"];
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var late = i >= 10 && i % 10 == 0;
            var at = DateTimeOffset.UtcNow - (late ? TimeSpan.FromHours(1) : TimeSpan.Zero);
            var body = new JsonObject
            {
                ["event_id"] = $"evt_{i}",
                ["timestamp"] = at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                ["event_type"] = topics[i % 3] == "iot.sensors" ? "iot.sensor" : topics[i % 3],
                ["user_id"] = $"user_{i % 7}",
                ["device_id"] = $"device_{i % 5}",
                ["payload"] = new JsonObject { ["value"] = i },
            };
            if (i % 25 == 7)
            {
                body.Remove("event_id");
            }

            try
            {
                using var response = await client.PostAsync(new Uri($"api/v1/events/{topics[i % 3]}", UriKind.Relative), TestEvents.Json(body), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    Accepted++;
                }

                await Task.Delay(20, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Listen(string section, int port) => $"--{section}:Urls=http://127.0.0.1:{port}";

    public async Task DisposeAsync()
    {
        if (_load is not null)
        {
            await _load.CancelAsync();
            await _loadTask!;
            _load.Dispose();
        }

        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            await _parts[i].DisposeAsync();
        }
    }
}
