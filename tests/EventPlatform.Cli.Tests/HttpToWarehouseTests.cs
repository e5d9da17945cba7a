using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Issue 11, item 10: from HTTP to DuckDB through the production path. <c>broker</c>, <c>registry</c>,
/// <c>gateway</c> and <c>sink</c> each in its own process; 100,000 events POSTed to the gateway's batch
/// endpoint while the sink is killed with SIGKILL mid-stream and restarted. Read back through the
/// sink's <c>POST /query</c>, every copy counted: exactly 100,000 rows, each acknowledged event once.
/// </summary>
public sealed class HttpToWarehouseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "events.iot.sensors";
    private const string Connector = "http-to-warehouse";
    private const int Events = 100_000;
    private const int BatchSize = 1_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("http-to-warehouse-").FullName;
    private CliProcess _broker = null!;
    private string _bootstrap = null!;

    public async Task InitializeAsync() => (_broker, _bootstrap) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_hundred_thousand_events_posted_land_exactly_once_across_a_sigkill_of_the_sink()
    {
        var (registryProcess, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", _bootstrap);
        await using var registry = registryProcess;
        var (gatewayProcess, gatewayUrl) = await PlatformProcesses.StartGatewayAsync("gateway", _bootstrap, registryUrl, "--Gateway:RateLimit:Enabled=false", "--Logging:LogLevel:Default=Warning");
        await using var gateway = gatewayProcess;
        var database = Path.Combine(_directory, "warehouse.duckdb");
        string[] sinkArguments = [$"--Sink:Connector:topics={Topic}", "--Sink:Connector:buffer.flush.time=0.5", "--Logging:LogLevel:Default=Warning"];
        var (first, _) = await PlatformProcesses.StartSinkAsync("sink-1", _bootstrap, registryUrl, database, Connector, sinkArguments);
        await using var doomed = first;

        var clock = Stopwatch.StartNew();
        var acknowledged = new ConcurrentDictionary<string, byte>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var posting = PostAllAsync(gatewayUrl, run, acknowledged);

        // The kill lands once the sink has committed part of the stream, while the rest is still coming.
        await WaitAsync(() => Committed() > 20_000, TimeSpan.FromSeconds(90), first, "the first sink to commit 20,000 rows");
        first.Kill();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var atKill = Committed();
        output.WriteLine($"sink-1 killed after {clock.Elapsed.TotalSeconds:F1} s with {atKill} offsets committed, {acknowledged.Count} events acknowledged");
        Assert.True(atKill < Events, "the kill came after the sink had read everything: not mid-stream");

        var (second, sinkUrl) = await PlatformProcesses.StartSinkAsync("sink-2", _bootstrap, registryUrl, database, Connector, sinkArguments);
        await using var last = second;
        await posting;
        output.WriteLine($"{acknowledged.Count} events acknowledged after {clock.Elapsed.TotalSeconds:F1} s");
        var end = SinkClient.EndTotal(_bootstrap, Topic);
        await WaitAsync(() => Committed() >= end, TimeSpan.FromSeconds(120), second, $"the sink to commit every offset ({end})");
        output.WriteLine($"every offset ({end}) committed after {clock.Elapsed.TotalSeconds:F1} s");

        // Every copy counted three ways: rows, distinct ids, and the ids themselves against the acknowledgements.
        Assert.Equal(Events, await SinkClient.ScalarAsync(sinkUrl, "SELECT count(*) FROM events"));
        Assert.Equal(Events, await SinkClient.ScalarAsync(sinkUrl, "SELECT count(DISTINCT event_id) FROM events"));
        var ids = await SinkClient.ReadColumnAsync(sinkUrl, "events", "event_id");
        Assert.Equal(Events, ids.Count);
        Assert.Equal(Events, acknowledged.Count);
        var missing = acknowledged.Keys.Except(ids).ToList();
        var foreign = ids.Except(acknowledged.Keys).ToList();
        Assert.True(missing.Count == 0 && foreign.Count == 0, $"{missing.Count} acknowledged events missing (e.g. {string.Join(", ", missing.Take(5))}), {foreign.Count} rows never acknowledged (e.g. {string.Join(", ", foreign.Take(5))})");
        Assert.False(gateway.HasExited, gateway.Output);
    }

    private long Committed() => SinkClient.CommittedTotal(_bootstrap, "connect-" + Connector, Topic);

    /// <summary>
    /// POSTs the events in batches of 1,000, four requests at a time; an event the gateway did not
    /// accept is sent again (the gateway's idempotency makes a retry safe) until it is.
    /// </summary>
    private async Task PostAllAsync(Uri gateway, string run, ConcurrentDictionary<string, byte> acknowledged)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("warehouse-client"));
        var retries = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Events / BatchSize), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, cancellationToken) =>
        {
            var pending = Enumerable.Range(batch * BatchSize, BatchSize)
                .Select(i => TestEvents.Iot($"evt_h2w_{run}_{i:D6}", deviceId: $"device_{i % 97}", userId: $"user_{i % 13}")).ToList();
            for (var attempt = 1; pending.Count > 0; attempt++)
            {
                Assert.True(attempt <= 10, $"batch {batch}: {pending.Count} events still refused after 10 attempts");
                using var response = await http.PostAsync($"api/v1/events/iot.sensors/batch", TestEvents.Json(new JsonArray([.. pending])), cancellationToken);
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject();
                var refused = new List<JsonObject>();
                if (body["results"] is JsonArray results)
                {
                    for (var i = 0; i < pending.Count; i++)
                    {
                        if ((string?)results[i]!["status"] == "accepted")
                        {
                            acknowledged.TryAdd((string)pending[i]["event_id"]!, 0);
                        }
                        else
                        {
                            refused.Add((JsonObject)pending[i].DeepClone());
                        }
                    }
                }
                else
                {
                    refused.AddRange(pending.Select(e => (JsonObject)e.DeepClone()));
                }

                if (refused.Count > 0)
                {
                    Interlocked.Add(ref retries, refused.Count);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
                }

                pending = refused;
            }
        });
        output.WriteLine($"{retries} events sent again after a refusal");
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, CliProcess process, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return;
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited while waiting for {what}:\n{process.Output}");
            }

            await Task.Delay(200);
        }

        throw process.Failure($"did not let {what} within {timeout.TotalSeconds:0} s");
    }
}
