using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Issue 11: an acknowledged event lands even when the sink falls far behind. <c>broker</c>,
/// <c>registry</c>, <c>gateway</c> and <c>sink</c> each in its own process; the connector is paused
/// while 120 MB of events that do not compress are posted, twice what the embedded broker keeps per
/// topic (~5 MB per partition). The gateway's downstream guard refuses publishes with 503
/// <c>DOWNSTREAM_BACKLOG</c> and <c>Retry-After</c> before the broker would drop records the sink has
/// not committed; the client sends the refused events again; the connector resumes; every
/// acknowledged event is in the warehouse, once. Without the guard the broker drops what the paused
/// sink has not read (measured: 300,000 accepted, 160,384 landed).
/// </summary>
public sealed class DownstreamBacklogTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "events.iot.sensors";
    private const string Connector = "backlog";
    private const int Events = 40_000;
    private const int BatchSize = 100;

    private readonly string _directory = Directory.CreateTempSubdirectory("downstream-backlog-").FullName;
    private CliProcess _broker = null!;
    private string _bootstrap = null!;

    public async Task InitializeAsync() => (_broker, _bootstrap) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Publishes_wait_while_the_paused_sink_is_behind_and_every_acknowledged_event_lands()
    {
        var (registryProcess, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", _bootstrap);
        await using var registry = registryProcess;
        var (gatewayProcess, gatewayUrl) = await PlatformProcesses.StartGatewayAsync("gateway", _bootstrap, registryUrl,
            "--Gateway:RateLimit:Enabled=false", "--Logging:LogLevel:Default=Warning",
            // What `up` sets on the embedded broker; here the sink is the only reader.
            $"--Gateway:DownstreamGuard:ConsumerGroups:0=connect-{Connector}",
            "--Gateway:DownstreamGuard:RetainedBytesPerPartition=5242880", "--Gateway:DownstreamGuard:RetainedBatchesPerPartition=100000");
        await using var gateway = gatewayProcess;
        var database = Path.Combine(_directory, "warehouse.duckdb");
        var (sinkProcess, sinkUrl) = await PlatformProcesses.StartSinkAsync("sink", _bootstrap, registryUrl, database, Connector,
            $"--Sink:Connector:topics={Topic}", "--Sink:Connector:buffer.flush.time=0.5", "--Logging:LogLevel:Default=Warning");
        await using var sink = sinkProcess;
        using var connect = new HttpClient { BaseAddress = sinkUrl, Timeout = TimeSpan.FromSeconds(30) };
        connect.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("connect-admin"));
        Assert.Equal(HttpStatusCode.Accepted, (await connect.PutAsync($"connectors/{Connector}/pause", null)).StatusCode);

        var clock = Stopwatch.StartNew();
        var acknowledged = new ConcurrentDictionary<string, byte>();
        var refusals = new ConcurrentDictionary<string, int>();
        var backlogAnswers = 0;
        var backlogAnswersWithRetryAfter = 0;
        var posting = Task.Run(() => PostAllAsync(gatewayUrl, acknowledged, refusals, response =>
        {
            Interlocked.Increment(ref backlogAnswers);
            if (response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 })
            {
                Interlocked.Increment(ref backlogAnswersWithRetryAfter);
            }
        }));

        // The guard must act while the sink is paused: the posting cannot finish before it resumes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (Volatile.Read(ref backlogAnswers) == 0)
        {
            Assert.False(posting.IsCompleted, $"all {acknowledged.Count} events were accepted with the sink paused: the guard never refused ({Describe(refusals)})");
            Assert.True(DateTime.UtcNow < deadline, $"no DOWNSTREAM_BACKLOG refusal within 120 s; {acknowledged.Count} acknowledged ({Describe(refusals)})");
            await Task.Delay(100);
        }

        // Held for a while: refused for as long as the sink stays paused, and nothing dropped meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var heldAt = acknowledged.Count;
        output.WriteLine($"guard acted after {clock.Elapsed.TotalSeconds:F1} s with {heldAt} events acknowledged; {Describe(refusals)}");
        Assert.True(heldAt < Events, "everything was acknowledged before the sink resumed");
        Assert.Equal(0, SinkClient.CommittedTotal(_bootstrap, "connect-" + Connector, Topic));
        Assert.Equal(HttpStatusCode.Accepted, (await connect.PutAsync($"connectors/{Connector}/resume", null)).StatusCode);

        await posting;
        output.WriteLine($"{acknowledged.Count} events acknowledged after {clock.Elapsed.TotalSeconds:F1} s; refusals {Describe(refusals)}");
        Assert.True(backlogAnswers > 0 && backlogAnswersWithRetryAfter == backlogAnswers, $"{backlogAnswersWithRetryAfter} of {backlogAnswers} backlog answers had Retry-After");
        var end = SinkClient.EndTotal(_bootstrap, Topic);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (SinkClient.CommittedTotal(_bootstrap, "connect-" + Connector, Topic) < end)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the sink did not commit every offset ({end}) within 120 s of the last publish:\n{sink.Output}");
            Assert.False(sink.HasExited, sink.Output);
            await Task.Delay(200);
        }

        output.WriteLine($"every offset ({end}) committed after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(Events, end);
        Assert.Equal(Events, acknowledged.Count);
        var rows = await SinkClient.ScalarAsync(sinkUrl, "SELECT count(*) FROM events");
        Assert.True(rows == Events, $"{rows} rows for {Events} events; sink output:\n{sink.Output}");
        var ids = await SinkClient.ReadColumnAsync(sinkUrl, "events", "event_id");
        Assert.Equal(Events, ids.Count);
        var missing = acknowledged.Keys.Except(ids).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged events missing from the warehouse, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.DoesNotContain("Offset out of range", sink.Output, StringComparison.OrdinalIgnoreCase);
        Assert.False(gateway.HasExited, gateway.Output);
    }

    private static string Describe(ConcurrentDictionary<string, int> refusals) =>
        refusals.IsEmpty ? "no refusals" : string.Join(", ", refusals.Select(r => $"{r.Value} {r.Key}"));

    /// <summary>
    /// POSTs the events in batches, four requests at a time, each event with 1,500 random bytes (3,000
    /// hex digits: no compression shrinks them much); a refused event is sent again after the
    /// answer's Retry-After until it is accepted.
    /// </summary>
    private static async Task PostAllAsync(Uri gateway, ConcurrentDictionary<string, byte> acknowledged, ConcurrentDictionary<string, int> refusals, Action<HttpResponseMessage> onBacklog)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("backlog-client"));
        var run = Guid.NewGuid().ToString("N")[..8];
        await Parallel.ForEachAsync(Enumerable.Range(0, Events / BatchSize), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, cancellationToken) =>
        {
            var pending = Enumerable.Range(batch * BatchSize, BatchSize).Select(i =>
            {
                var e = TestEvents.Iot($"evt_backlog_{run}_{i:D6}", deviceId: $"device_{i % 97}", userId: $"user_{i % 13}");
                e["payload"]!["blob"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(1500));
                return e;
            }).ToList();
            for (var attempt = 1; pending.Count > 0; attempt++)
            {
                Assert.True(attempt <= 2_000, $"batch {batch}: {pending.Count} events still refused after 2,000 attempts");
                using var response = await http.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(new JsonArray([.. pending])), cancellationToken);
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject();
                var refused = new List<JsonObject>();
                var backlog = false;
                if (body["results"] is JsonArray results)
                {
                    for (var i = 0; i < pending.Count; i++)
                    {
                        if ((string?)results[i]!["status"] == "accepted")
                        {
                            acknowledged.TryAdd((string)pending[i]["event_id"]!, 0);
                            continue;
                        }

                        var code = (string?)results[i]!["error"]?["error_code"] ?? "?";
                        refusals.AddOrUpdate(code, 1, (_, n) => n + 1);
                        backlog |= code == "DOWNSTREAM_BACKLOG";
                        refused.Add((JsonObject)pending[i].DeepClone());
                    }
                }
                else
                {
                    refusals.AddOrUpdate($"{(int)response.StatusCode} {(string?)body["error_code"]}", 1, (_, n) => n + 1);
                    refused.AddRange(pending.Select(e => (JsonObject)e.DeepClone()));
                }

                if (backlog)
                {
                    onBacklog(response);
                }

                if (refused.Count > 0)
                {
                    await Task.Delay(response.Headers.RetryAfter?.Delta is { } wait && wait < TimeSpan.FromSeconds(2) ? wait : TimeSpan.FromMilliseconds(500), cancellationToken);
                }

                pending = refused;
            }
        });
    }
}
