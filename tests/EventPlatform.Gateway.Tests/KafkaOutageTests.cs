using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Kafka goes away under the gateway (every broker down through the mock cluster's API) and
/// comes back. Its own broker and gateway, with short timeouts, so it can break them freely.
/// </summary>
public sealed class KafkaOutageTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:PublishBaseDelay"] = "00:00:00.200",
            ["Kafka:Producer:MessageTimeout"] = "00:00:02",
            ["Kafka:ReconnectBackoffMax"] = "00:00:00.250",
            // This test is about the publisher's own retries; with idempotency on, an outage is
            // refused earlier, at the claim (IdempotencyOutageTests).
            ["Gateway:Idempotency:Enabled"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    private async Task<(string Id, HttpStatusCode Status, JsonObject Body)> PostAsync(int n)
    {
        var id = $"evt_outage_{n}_{Guid.NewGuid():N}";
        var response = await _gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot(id, deviceId: $"device_{n % 17}")));
        return (id, response.StatusCode, await response.JsonAsync());
    }

    [Fact]
    public async Task Brokers_down_gives_503_after_the_retries_then_success_when_back_with_no_loss_and_no_duplicate()
    {
        var outcomes = new List<(string Id, HttpStatusCode Status, JsonObject Body)>();
        outcomes.AddRange(await Task.WhenAll(Enumerable.Range(0, 20).Select(PostAsync)));
        Assert.All(outcomes, o => Assert.Equal(HttpStatusCode.OK, o.Status));

        _kafka.Cluster.SetAllBrokersDown();
        var clock = Stopwatch.StartNew();
        var during = await Task.WhenAll(Enumerable.Range(100, 5).Select(PostAsync));
        var elapsed = clock.Elapsed;
        outcomes.AddRange(during);

        Assert.All(during, o =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, o.Status);
            Responses.AssertIsErrorResponse(o.Body, "KAFKA_UNAVAILABLE");
            Assert.Equal(3, (int)o.Body["details"]!["attempts"]!);
        });
        // Three attempts of 2 s each, with the seed's backoff (0.2 s, then 0.4 s, plus jitter) between them.
        Assert.True(elapsed >= TimeSpan.FromSeconds(6.5), $"gave up after {elapsed}");

        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseAddress };
        var health = await WaitForAsync(async () => await anonymous.GetAsync("api/v1/health"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15));
        Assert.False((bool)(await health.JsonAsync())["kafka_connected"]!);

        _kafka.Cluster.SetAllBrokersUp();
        var n = 200;
        var first = await WaitForAsync(() => PostAsync(n++), o => o.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), outcomes.Add);
        outcomes.AddRange(await Task.WhenAll(Enumerable.Range(300, 20).Select(PostAsync)));
        Assert.All(outcomes.Skip(outcomes.Count - 20), o => Assert.Equal(HttpStatusCode.OK, o.Status));

        var acknowledged = outcomes.Where(o => o.Status == HttpStatusCode.OK).Select(o => o.Id).ToHashSet();
        // Everything, to the end of every partition: a duplicate or a late write of a failed event
        // must be seen. The 20 events acknowledged last, on most partitions, came after any such write.
        var records = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        var written = records.Select(r => (string)Responses.ParseRecord(r)["event_id"]!).ToList();

        // No loss: every acknowledged event is in Kafka. No duplicate: none is there twice.
        Assert.Empty(acknowledged.Except(written));
        Assert.Equal(written.Count, written.Distinct().Count());
        // What we told a client failed was never written behind its back.
        foreach (var failed in outcomes.Where(o => o.Status != HttpStatusCode.OK))
        {
            var possibly = (bool?)failed.Body["details"]?["possibly_persisted"] ?? false;
            Assert.True(possibly || !written.Contains(failed.Id), $"{failed.Id} was reported failed but is in Kafka");
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, TimeSpan within, Action<T>? seen = null)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var result = await attempt();
            seen?.Invoke(result);
            if (done(result) || DateTime.UtcNow > deadline)
            {
                Assert.True(done(result), "condition not reached in time");
                return result;
            }

            await Task.Delay(100);
        }
    }
}
