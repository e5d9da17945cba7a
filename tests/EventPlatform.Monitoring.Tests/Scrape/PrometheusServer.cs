using System.Diagnostics;
using System.Text.Json;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests.Scrape;

/// <summary>
/// Debian's Prometheus (<c>/usr/bin/prometheus</c>) as a child process, with its own storage
/// directory and a configuration made from <c>deploy/prometheus/prometheus.yml</c>, queried
/// through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    public const string BinaryPath = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, Uri url)
    {
        _process = process;
        _directory = directory;
        _http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
    }

    public static bool Installed => File.Exists(BinaryPath);

    /// <summary>
    /// The deployed configuration with the test's ports, a 1 s scrape and evaluation interval and
    /// the deployed rules by absolute path. Each replacement must apply, so a change of the deployed
    /// file that the test no longer follows fails here rather than scraping nothing.
    /// </summary>
    public static string Configuration(IReadOnlyDictionary<int, int> portsByDeployedPort)
    {
        var text = File.ReadAllText(Path.Combine(Promtool.RepositoryRoot, "deploy", "prometheus", "prometheus.yml"));
        text = Replace(text, "scrape_interval: 15s", "scrape_interval: 1s");
        text = Replace(text, "evaluation_interval: 15s", "evaluation_interval: 1s");
        text = Replace(text, "- rules/*.yml", "- " + Path.Combine(Promtool.RepositoryRoot, "deploy", "prometheus", "rules", "*.yml"));
        foreach (var (deployed, test) in portsByDeployedPort)
        {
            text = Replace(text, $"\"127.0.0.1:{deployed}\"", $"\"127.0.0.1:{test}\"");
        }

        return text;
    }

    public static async Task<PrometheusServer> StartAsync(string configuration)
    {
        var directory = Directory.CreateTempSubdirectory("eventplatform-prometheus-").FullName;
        var configFile = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, configuration);
        var port = PlatformProcesses.FreePort();
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "--config.file=" + configFile,
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        // Its log goes nowhere, but the pipes must be drained or it blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>Runs an instant query; throws with Prometheus' error when it does not evaluate.</summary>
    public async Task<JsonElement> QueryAsync(string promQl)
    {
        using var response = await _http.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(promQl), UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        if (document.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus could not evaluate '{promQl}': {body}");
        }

        return document.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary>The loaded rule groups, as <c>/api/v1/rules</c> reports them.</summary>
    public async Task<JsonElement> RulesAsync()
    {
        var body = await _http.GetStringAsync(new Uri("api/v1/rules", UriKind.Relative));
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("data").GetProperty("groups").Clone();
    }

    /// <summary>Waits until <paramref name="promQl"/> returns at least one series, polling.</summary>
    public async Task<JsonElement> WaitForDataAsync(string promQl, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await QueryAsync(promQl);
            if (result.GetArrayLength() > 0 || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(250);
        }
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited (code {_process.ExitCode}) before it was ready");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("-/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("prometheus was not ready within 30 s");
            }

            await Task.Delay(100);
        }
    }

    private static string Replace(string text, string what, string with) =>
        text.Contains(what, StringComparison.Ordinal)
            ? text.Replace(what, with, StringComparison.Ordinal)
            : throw new InvalidOperationException($"deploy/prometheus/prometheus.yml no longer contains '{what}'.");

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>A test that needs Debian's Prometheus: skipped where it is missing, unless EVENTPLATFORM_REQUIRE_PROMTOOL=1.</summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (!PrometheusServer.Installed && !Promtool.Required)
        {
            Skip = $"{PrometheusServer.BinaryPath} is not installed (apt-get install prometheus); set {Promtool.RequireVariable}=1 to fail instead of skipping.";
        }
    }
}
