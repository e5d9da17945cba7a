using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests;

/// <summary>
/// Issue 12, item 6: the readiness of every service of <c>up</c> follows the broker. The <c>broker</c>
/// process is frozen (SIGSTOP: unreachable, its in-memory topics and offsets kept, as a broker that
/// comes back with its disks) and resumed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReadinessUnderBrokerOutageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Readiness_of_gateway_registry_processor_sink_and_monitor_goes_false_while_the_broker_is_away_and_true_when_it_returns()
    {
        var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
        await using var _ = broker;
        var ports = Enumerable.Range(0, 5).Select(_ => PlatformProcesses.FreePort()).ToArray();
        await using var up = CliProcess.Start("up",
        [
            "up", $"--Gateway:Urls=http://127.0.0.1:{ports[0]}", $"--Registry:Urls=http://127.0.0.1:{ports[1]}",
            $"--Processor:Urls=http://127.0.0.1:{ports[2]}", $"--Sink:Urls=http://127.0.0.1:{ports[3]}", $"--Monitor:Urls=http://127.0.0.1:{ports[4]}",
            "--Monitor:PollInterval=00:00:01", "--Monitor:RequestTimeout=00:00:01",
        ], new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap, ["JWT_SECRET_KEY"] = PlatformProcesses.JwtSecret });
        Uri[] readiness =
        [
            new($"http://127.0.0.1:{ports[0]}/api/v1/health"),
            new($"http://127.0.0.1:{ports[0]}/health/ready"),
            new($"http://127.0.0.1:{ports[1]}/health/ready"),
            new($"http://127.0.0.1:{ports[2]}/health/ready"),
            new($"http://127.0.0.1:{ports[3]}/health/ready"),
            new($"http://127.0.0.1:{ports[4]}/health/ready"),
        ];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await WaitAllAsync(up, http, readiness, ready: true);

        broker.Suspend();
        try
        {
            await WaitAllAsync(up, http, readiness, ready: false);
        }
        finally
        {
            broker.Resume();
        }

        await WaitAllAsync(up, http, readiness, ready: true);
    }

    private static async Task WaitAllAsync(CliProcess up, HttpClient http, Uri[] urls, bool ready)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var waiting = urls.ToList();
        while (waiting.Count > 0)
        {
            // A dead `up` never becomes ready: say why now, not after the timeout.
            Assert.False(up.HasExited, $"up exited:\n{up.Output}");
            foreach (var url in waiting.ToList())
            {
                if (await IsReadyAsync(http, url) == ready)
                {
                    waiting.Remove(url);
                }
            }

            Assert.True(waiting.Count == 0 || DateTime.UtcNow < deadline,
                $"still {(ready ? "not ready" : "ready")}: {string.Join(", ", waiting)}\nup's output ends:\n{up.Output[^Math.Min(up.Output.Length, 4000)..]}");
            await Task.Delay(250);
        }
    }

    private static async Task<bool> IsReadyAsync(HttpClient http, Uri url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }
}
