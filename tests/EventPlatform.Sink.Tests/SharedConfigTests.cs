using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Testing;
using Microsoft.AspNetCore.Builder;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// Kafka Connect's distributed mode: two sink workers keep their connector configs in one
/// compacted topic (<c>Sink:ConfigStorage=kafka</c>). A connector created, paused, reconfigured or
/// deleted through either worker's REST API is applied by both, the two share its consumer group
/// (every event lands once across their warehouses), a restarted worker reads the configs back from
/// the topic, and hostile records in the topic are skipped without stopping anyone.
/// </summary>
public sealed class SharedConfigTests(SinkFixture fixture) : IClassFixture<SinkFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sink-shared-").FullName;
    private readonly string _configTopic = "connect-configs-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<WebApplication> StartWorkerAsync(string name, string defaultTopic) =>
        fixture.StartSinkAsync(Path.Combine(_directory, name + ".duckdb"), defaultTopic, new Dictionary<string, string?>
        {
            ["Sink:ConfigStorage"] = "kafka",
            ["Sink:ConfigTopic"] = _configTopic,
            // The same default connector on both, as two workers started alike would have.
            ["Sink:Connector:name"] = "shared-default",
        });

    [Fact]
    public async Task A_connector_made_paused_reconfigured_and_deleted_through_one_worker_is_applied_by_the_other()
    {
        var idle = fixture.NewTopic(partitions: 1);
        var topic = fixture.NewTopic(partitions: 4);
        await using var a = await StartWorkerAsync("a", idle);
        await using var b = await StartWorkerAsync("b", idle);
        using var httpA = SinkFixture.Client(a);
        using var httpB = SinkFixture.Client(b);

        using (var created = await httpA.PostAsync("/connectors", Json($$$"""{"name":"made-on-a","config":{"topics":"{{{topic}}}","tasks.max":"1","buffer.count.records":"50","buffer.flush.time":"0.2"}}""")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await EventuallyAsync(async () => (await NamesAsync(httpB)).Contains("made-on-a"), "worker b to list the connector made on a");
        await EventuallyAsync(async () => await TaskStatesAsync(httpB, "made-on-a") == "RUNNING", "worker b to run a task of it");

        // Both workers' tasks are one consumer group: every event lands once, across the two warehouses.
        const int Events = 400;
        await fixture.ProduceAsync(topic, Enumerable.Range(0, Events).Select(i => ((string?)("k" + i), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("shared_" + i), fixture.EventSchemaId))));
        await EventuallyAsync(async () => await CountAsync(a) + await CountAsync(b) >= Events, "every event to land", TimeSpan.FromSeconds(90));
        var ids = new List<string>();
        foreach (var sink in new[] { a, b })
        {
            ids.AddRange((await SinkFixture.Warehouse(sink).QueryAsync("SELECT event_id FROM events WHERE event_id LIKE 'shared_%'", CancellationToken.None)).Select(r => (string)r[0]!));
        }

        Assert.Equal(Events, ids.Count);
        Assert.Equal(Events, ids.Distinct().Count());

        // Paused through b: a's copy shows it too.
        Assert.Equal(HttpStatusCode.Accepted, (await httpB.PutAsync("/connectors/made-on-a/pause", null)).StatusCode);
        await EventuallyAsync(async () => (string?)(await BodyAsync(await httpA.GetAsync("/connectors/made-on-a/status")))["connector"]!["state"] == "PAUSED", "worker a to pause it");

        // Reconfigured through b: a reads the new config.
        using (var put = await httpB.PutAsync("/connectors/made-on-a/config", Json($$$"""{"topics":"{{{topic}}}","tasks.max":"2","buffer.flush.time":"0.5"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await EventuallyAsync(async () => (string?)(await BodyAsync(await httpA.GetAsync("/connectors/made-on-a/config")))["tasks.max"] == "2", "worker a to take the new config");

        // Deleted through a: b forgets it.
        Assert.Equal(HttpStatusCode.NoContent, (await httpA.DeleteAsync("/connectors/made-on-a")).StatusCode);
        await EventuallyAsync(async () => !(await NamesAsync(httpB)).Contains("made-on-a"), "worker b to delete it");
        Assert.Equal(HttpStatusCode.NotFound, (await httpB.GetAsync("/connectors/made-on-a/status")).StatusCode);
    }

    [Fact]
    public async Task A_restarted_worker_reads_the_configs_back_from_the_topic_and_hostile_records_there_are_skipped()
    {
        var topic = fixture.NewTopic(partitions: 1);
        await using (var first = await StartWorkerAsync("first", topic))
        {
            using var http = SinkFixture.Client(first);
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/connectors", Json($$$"""{"name":"kept","config":{"topics":"{{{topic}}}","tasks.max":"1"}}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync("/connectors/kept/stop", null)).StatusCode);
            await first.StopAsync();
        }

        // Anyone who may write the topic may write anything to it.
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = fixture.Cluster.BootstrapServers }).Build())
        {
            var random = new Random(20261203);
            (byte[]? Key, byte[]? Value)[] hostile =
            [
                (null, "{}"u8.ToArray()),
                ([0xff, 0xfe], "{}"u8.ToArray()),
                ("ok-name"u8.ToArray(), "not json"u8.ToArray()),
                ("ok-name"u8.ToArray(), """{"name":"other-name","config":{"topics":"x"},"state":"running"}"""u8.ToArray()),
                ("ok-name"u8.ToArray(), """{"name":"ok-name","config":{"topics":"x"},"state":"exploded"}"""u8.ToArray()),
                ("deep"u8.ToArray(), Encoding.UTF8.GetBytes(new string('[', 100_000))),
                ("a/../b"u8.ToArray(), """{"name":"a/../b","config":{"topics":"x"},"state":"running"}"""u8.ToArray()),
                (Encoding.UTF8.GetBytes(new string('n', 5000)), "{}"u8.ToArray()),
                ("never-made"u8.ToArray(), null),
                (RandomBytes(random, 40), RandomBytes(random, 300)),
                (RandomBytes(random, 8), RandomBytes(random, 5000)),
            ];
            foreach (var (key, value) in hostile)
            {
                producer.Produce(new TopicPartition(_configTopic, 0), new Message<byte[]?, byte[]?> { Key = key, Value = value });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        await using var second = await StartWorkerAsync("second", topic);
        using var client = SinkFixture.Client(second);
        var names = await NamesAsync(client);
        Assert.Equal(["kept", "shared-default"], names.Order(StringComparer.Ordinal));
        Assert.Equal("STOPPED", (string?)(await BodyAsync(await client.GetAsync("/connectors/kept/status")))["connector"]!["state"]);

        // Hostile records arriving while it runs are skipped too, and it keeps applying good ones.
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = fixture.Cluster.BootstrapServers }).Build())
        {
            producer.Produce(new TopicPartition(_configTopic, 0), new Message<byte[]?, byte[]?> { Key = "kept"u8.ToArray(), Value = Encoding.UTF8.GetBytes(new string('{', 50_000)) });
            producer.Produce(new TopicPartition(_configTopic, 0), new Message<byte[]?, byte[]?> { Key = "kept"u8.ToArray(), Value = null });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        await EventuallyAsync(async () => !(await NamesAsync(client)).Contains("kept"), "the tombstone to delete 'kept'");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/connectors/shared-default/status")).StatusCode);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static async Task<long> CountAsync(WebApplication sink) =>
        await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events WHERE event_id LIKE 'shared_%'");

    private static async Task<List<string>> NamesAsync(HttpClient http) =>
        [.. (await BodyAsync(await http.GetAsync("/connectors"))).AsArray().Select(n => (string)n!)];

    private static async Task<string?> TaskStatesAsync(HttpClient http, string name)
    {
        using var response = await http.GetAsync($"/connectors/{name}/status");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        var tasks = (await BodyAsync(response))["tasks"]!.AsArray();
        return tasks.Count == 0 ? null : string.Join(",", tasks.Select(t => (string?)t!["state"]).Distinct());
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonNode> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("Empty body: " + response.StatusCode);
    }
}
