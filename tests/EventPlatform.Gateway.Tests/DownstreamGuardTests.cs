using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// The downstream guard on every entry point: a gateway whose guard watches a consumer group that
/// never reads, with a retention of 4 KiB per partition (a handful of records), so that the topic
/// fills at once. Publishes are refused (503 with Retry-After, the batch's slots, the WebSocket's
/// error frames) until the group commits, and then taken again.
/// </summary>
public sealed class DownstreamGuardTests : IAsyncLifetime
{
    private const string Group = "guard-test-readers";
    private const string Topic = "events.iot.sensors";
    private readonly EmbeddedKafkaFixture _kafka = new();
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
            ["Kafka:Producer:LingerMs"] = "1",
            ["Gateway:DownstreamGuard:ConsumerGroups:0"] = Group,
            ["Gateway:DownstreamGuard:RetainedBytesPerPartition"] = "4096",
            ["Gateway:DownstreamGuard:Interval"] = "00:00:00.050",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    [Fact]
    public async Task Publishes_are_refused_on_every_entry_point_while_the_group_is_behind_and_taken_once_it_commits()
    {
        using var client = _gateway.NewClient("guarded");

        // Single POSTs until the guard's reading shows a partition over its limit.
        HttpResponseMessage? refused = null;
        var accepted = 0;
        for (var i = 0; i < 2_000 && refused is null; i++)
        {
            var response = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_guard_{i}", deviceId: $"device_{i % 31}")));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                accepted++;
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!.AsObject();
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, error.ToJsonString());
            Assert.Equal("DOWNSTREAM_BACKLOG", (string?)error["error_code"]);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            var details = error["details"]!.AsObject();
            Assert.Equal(Group, (string?)details["consumer_group"]);
            Assert.Equal(Topic, (string?)details["topic"]);
            Assert.True((long)details["lag"]! > (long)details["limit"]!, details.ToJsonString());
        }

        Assert.InRange(accepted, 1, 1_000);

        // A batch: every slot refused, the 207 carries Retry-After.
        using (var batch = await client.PostAsync("api/v1/events/iot.sensors/batch",
            TestEvents.Json(new JsonArray([.. Enumerable.Range(0, 5).Select(i => TestEvents.Iot($"evt_guard_batch_{i}"))]))))
        {
            var body = JsonNode.Parse(await batch.Content.ReadAsStringAsync())!.AsObject();
            Assert.Equal((HttpStatusCode)207, batch.StatusCode);
            Assert.Equal(0, (int)body["accepted"]!);
            Assert.All(body["results"]!.AsArray(), r => Assert.Equal("DOWNSTREAM_BACKLOG", (string?)r!["error"]!["error_code"]));
            Assert.NotNull(batch.Headers.RetryAfter);
        }

        // The WebSocket ingest: an error frame with the code and when to retry.
        await using (var socket = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors"))
        {
            await socket.SendAsync(TestEvents.Iot("evt_guard_socket"));
            var frame = await socket.ReceiveAsync();
            Assert.NotNull(frame);
            Assert.Equal("DOWNSTREAM_BACKLOG", (string?)frame["error_code"]);
            Assert.Equal(1, (int)frame["details"]!["retry_after_seconds"]!);
        }

        // The gauge says so: the worst lag over its limit, 1 and above while refusing.
        var metrics = await client.GetStringAsync("metrics");
        var gauge = System.Text.RegularExpressions.Regex.Match(metrics, @"^gateway_downstream_lag_ratio\{[^}]*topic=""events\.iot\.sensors""[^}]*\} ([0-9.eE+]+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(gauge.Success, "no gateway_downstream_lag_ratio series for the topic");
        Assert.True(double.Parse(gauge.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1, gauge.Value);

        // Nothing refused was written: the topic holds exactly the accepted events.
        Assert.Equal(accepted, EndTotal());

        // The group catches up: publishes are taken again within a few readings.
        CommitEverything();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var again = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_guard_after_{Guid.NewGuid():N}")));
            if (again.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"still refused 10 s after the group committed everything: {await again.Content.ReadAsStringAsync()}");
            await Task.Delay(50);
        }
    }

    private long EndTotal()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "ends" }).Build();
        return Partitions().Sum(p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    private void CommitEverything()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = Group }).Build();
        consumer.Commit(Partitions().Select(p => new TopicPartitionOffset(p, consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High)));
    }

    private List<TopicPartition> Partitions()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        return [.. admin.GetMetadata(Topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(Topic, p.PartitionId))];
    }
}
