using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Issue 9's count: the same events retried through two gateway processes, through all three
/// entry points (POST, batch, WebSocket), across a SIGKILL and restart of a gateway and across a
/// broker that hangs (SIGSTOP) while requests are in flight. Every acknowledged event is in Kafka
/// exactly once, read to the end of every partition; every answer for an event names that copy.
/// </summary>
/// <remarks>Its own broker process: freezing it must not disturb other tests.</remarks>
public sealed class ExactlyOnceIngestTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "events.iot.sensors";
    private const string Subject = "exactly-once-client";

    // Short timeouts so the outage outlasts a publish attempt and expired claims come back quickly;
    // the claim timeout must exceed the longest publish (1 attempt x 3 s), or the gateway refuses to start.
    private static readonly string[] GatewayArguments =
    [
        "--Kafka:Producer:MessageTimeout=00:00:03",
        "--Gateway:PublishMaxAttempts=1",
        "--Gateway:Idempotency:ClaimTimeout=00:00:06",
        "--Gateway:RateLimit:Enabled=false",
    ];

    private CliProcess _broker = null!;
    private string _bootstrap = null!;

    private enum EntryPoint
    {
        Single,
        Batch,
        WebSocket,
    }

    /// <summary>One answer for one event: accepted at a position, or why not.</summary>
    private sealed record Answer(string EventId, bool Accepted, int Partition = -1, long Offset = -1, string? Error = null);

    public async Task InitializeAsync() => (_broker, _bootstrap) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Retries_through_two_gateways_three_entry_points_a_restart_and_a_hung_broker_leave_exactly_one_copy_of_each_event()
    {
        var (registryProcess, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", _bootstrap);
        await using var registry = registryProcess;
        var (processA, urlA) = await PlatformProcesses.StartGatewayAsync("gateway-a", _bootstrap, registryUrl, GatewayArguments);
        await using var gatewayA = processA;
        var (processB, urlB) = await PlatformProcesses.StartGatewayAsync("gateway-b", _bootstrap, registryUrl, GatewayArguments);
        await using var gatewayB = processB;

        var run = Guid.NewGuid().ToString("N")[..12];
        var answers = new Dictionary<string, List<Answer>>();
        void Record(IEnumerable<Answer> batch)
        {
            foreach (var a in batch)
            {
                if (!answers.TryGetValue(a.EventId, out var list))
                {
                    answers[a.EventId] = list = [];
                }

                list.Add(a);
            }
        }

        // 1. The same 30 events sent at once to both gateways, each through another entry point.
        var raced = Enumerable.Range(0, 30).Select(i => TestEvents.Iot($"evt_eo_{run}_race_{i}", deviceId: $"device_{i % 7}")).ToList();
        var sends = new List<Task<List<Answer>>>();
        foreach (var (url, shift) in new[] { (urlA, 0), (urlB, 1) })
        {
            foreach (var group in raced.Select((e, i) => (e, i)).GroupBy(x => (EntryPoint)((x.i + shift) % 3)))
            {
                sends.Add(SendAsync(url, group.Key, [.. group.Select(x => x.e)], TimeSpan.FromSeconds(30)));
            }
        }

        foreach (var send in sends)
        {
            var batch = await send;
            Assert.All(batch, a => Assert.True(a.Accepted, $"{a.EventId}: {a.Error}"));
            Record(batch);
        }

        // 2. Gateway A killed (no shutdown code runs) and started again: every retry is replayed.
        gatewayA.Kill();
        await gatewayA.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var (processA2, urlA2) = await PlatformProcesses.StartGatewayAsync("gateway-a2", _bootstrap, registryUrl, GatewayArguments);
        await using var gatewayA2 = processA2;
        foreach (var group in raced.Select((e, i) => (e, i)).GroupBy(x => (EntryPoint)((x.i + 2) % 3)))
        {
            var batch = await SendAsync(urlA2, group.Key, [.. group.Select(x => x.e)], TimeSpan.FromSeconds(30));
            Assert.All(batch, a => Assert.True(a.Accepted, $"{a.EventId}: {a.Error}"));
            Record(batch);
        }

        // 3. The broker hangs while 15 new events are in flight on both gateways, longer than a
        //    publish attempt: some are written but never acknowledged ("possibly persisted").
        var outage = Enumerable.Range(0, 15).Select(i => TestEvents.Iot($"evt_eo_{run}_outage_{i}", deviceId: $"device_{i % 5}")).ToList();
        var warm = await SendAsync(urlB, EntryPoint.Single, [TestEvents.Iot($"evt_eo_{run}_warm")], TimeSpan.FromSeconds(30));
        Record(warm);
        _broker.Suspend();
        List<Task<List<Answer>>> during;
        try
        {
            during = [];
            foreach (var (url, shift) in new[] { (urlA2, 0), (urlB, 1) })
            {
                foreach (var group in outage.Select((e, i) => (e, i)).GroupBy(x => (EntryPoint)((x.i + shift) % 3)))
                {
                    during.Add(SendAsync(url, group.Key, [.. group.Select(x => x.e)], TimeSpan.FromSeconds(40)));
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _broker.Resume();
        }

        foreach (var send in during)
        {
            var batch = await send;
            output.WriteLine(string.Join("\n", batch.Select(a => $"during outage: {a.EventId} {(a.Accepted ? $"{a.Partition}/{a.Offset}" : a.Error)}")));
            Record(batch);
        }

        // Retries until each is accepted, round robin over gateways and entry points.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var round = 0;
        while (outage.Any(e => !answers[Id(e)].Any(a => a.Accepted)))
        {
            Assert.True(DateTime.UtcNow < deadline, "retries after the outage were not all accepted within 90 s: " +
                string.Join("; ", outage.Select(Id).Select(id => $"{id}: {answers[id].Last().Error}")));
            var url = round % 2 == 0 ? urlA2 : urlB;
            var entry = (EntryPoint)(round % 3);
            var batch = await SendAsync(url, entry, [.. outage.Where(e => !answers[Id(e)].Any(a => a.Accepted))], TimeSpan.FromSeconds(30));
            Record(batch);
            round++;
            if (batch.Any(a => !a.Accepted))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }

        // And once more through every entry point of both: all replayed.
        foreach (var url in new[] { urlA2, urlB })
        {
            foreach (var entry in Enum.GetValues<EntryPoint>())
            {
                var batch = await SendAsync(url, entry, outage, TimeSpan.FromSeconds(30));
                Assert.All(batch, a => Assert.True(a.Accepted, $"{a.EventId}: {a.Error}"));
                Record(batch);
            }
        }

        // 4. Count every copy in Kafka: exactly one per event, where every acceptance said it is.
        var ids = raced.Concat(outage).Concat([TestEvents.Iot($"evt_eo_{run}_warm")]).Select(Id).ToList();
        var copies = await CopiesAsync(registryUrl.ToString().TrimEnd('/'), run);
        Assert.Equal(ids.Order(StringComparer.Ordinal), copies.Keys.Order(StringComparer.Ordinal));
        foreach (var id in ids)
        {
            var copy = Assert.Single(copies[id]);
            Assert.All(answers[id].Where(a => a.Accepted), a => Assert.Equal((copy.Partition.Value, copy.Offset.Value), (a.Partition, a.Offset)));
        }

        Assert.False(gatewayA2.HasExited, gatewayA2.Output);
        Assert.False(gatewayB.HasExited, gatewayB.Output);
    }

    private static string Id(JsonObject e) => (string)e["event_id"]!;

    /// <summary>Every record of the topic whose event id belongs to this run, decoded with Confluent's Avro deserializer.</summary>
    private async Task<Dictionary<string, List<TopicPartitionOffset>>> CopiesAsync(string registryUrl, string run)
    {
        var records = await KafkaReader.ReadAllAsync(_bootstrap, Topic, TimeSpan.FromSeconds(60));
        using var registry = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(registryUrl));
        var deserializer = new AvroDeserializer<GenericRecord>(registry);
        var marker = Encoding.UTF8.GetBytes($"evt_eo_{run}_");
        var copies = new Dictionary<string, List<TopicPartitionOffset>>();
        foreach (var record in records)
        {
            if (record.Message.Value!.AsSpan().IndexOf(marker) < 0)
            {
                continue;
            }

            var decoded = await deserializer.DeserializeAsync(record.Message.Value, isNull: false, new SerializationContext(MessageComponentType.Value, Topic));
            var id = (string)decoded["event_id"];
            if (!copies.TryGetValue(id, out var list))
            {
                copies[id] = list = [];
            }

            list.Add(record.TopicPartitionOffset);
        }

        return copies;
    }

    /// <summary>Sends <paramref name="events"/> through one entry point; a transport failure is an answer too.</summary>
    private static async Task<List<Answer>> SendAsync(Uri gateway, EntryPoint entry, IReadOnlyList<JsonObject> events, TimeSpan timeout)
    {
        try
        {
            return entry switch
            {
                EntryPoint.Single => [.. await Task.WhenAll(events.Select(e => PostOneAsync(gateway, e, timeout)))],
                EntryPoint.Batch => await PostBatchAsync(gateway, events, timeout),
                _ => await SendOverWebSocketAsync(gateway, events, timeout),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or WebSocketException or OperationCanceledException)
        {
            return [.. events.Select(e => new Answer(Id(e), false, Error: $"{entry}: {ex.GetType().Name}: {ex.Message}"))];
        }
    }

    private static HttpClient Client(Uri gateway, TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = gateway, Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token(Subject));
        return client;
    }

    private static async Task<Answer> PostOneAsync(Uri gateway, JsonObject e, TimeSpan timeout)
    {
        try
        {
            using var client = Client(gateway, timeout);
            using var response = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(e));
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            return response.IsSuccessStatusCode
                ? new Answer(Id(e), true, (int)body["partition"]!, (long)body["offset"]!)
                : new Answer(Id(e), false, Error: $"single {(int)response.StatusCode} {body["error_code"]}: {body["message"]}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Answer(Id(e), false, Error: $"single: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async Task<List<Answer>> PostBatchAsync(Uri gateway, IReadOnlyList<JsonObject> events, TimeSpan timeout)
    {
        using var client = Client(gateway, timeout);
        using var response = await client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(new JsonArray([.. events.Select(e => e.DeepClone())])));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        if (body["results"] is not JsonArray results)
        {
            return [.. events.Select(e => new Answer(Id(e), false, Error: $"batch {(int)response.StatusCode} {body["error_code"]}: {body["message"]}"))];
        }

        return [.. results.Select((r, i) => (string?)r!["status"] == "accepted"
            ? new Answer(Id(events[i]), true, (int)r["partition"]!, (long)r["offset"]!)
            : new Answer(Id(events[i]), false, Error: $"batch item {r["error"]?["error_code"]}: {r["error"]?["message"]}"))];
    }

    private static async Task<List<Answer>> SendOverWebSocketAsync(Uri gateway, IReadOnlyList<JsonObject> events, TimeSpan timeout)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {GatewayServer.Token(Subject)}");
        using var cts = new CancellationTokenSource(timeout);
        var answers = new Answer?[events.Count];
        try
        {
            await socket.ConnectAsync(new Uri($"ws://{gateway.Authority}/api/v1/ingest/iot.sensors"), cts.Token);
            var message = Encoding.UTF8.GetBytes(new JsonArray([.. events.Select(e => e.DeepClone())]).ToJsonString());
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cts.Token);
            var buffer = new byte[64 * 1024];
            while (answers.Any(a => a is null))
            {
                using var frame = new MemoryStream();
                WebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer, cts.Token);
                    frame.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var answer = JsonNode.Parse(frame.ToArray())!.AsObject();
                var index = answer["index"] is { } i ? (int)i : -1;
                if (index < 0 || index >= answers.Length)
                {
                    // An error about the message as a whole.
                    var error = $"websocket {answer["error_code"]}: {answer["message"]}";
                    return [.. events.Select(e => new Answer(Id(e), false, Error: error))];
                }

                answers[index] = (string?)answer["type"] == "ack"
                    ? new Answer(Id(events[index]), true, (int)answer["partition"]!, (long)answer["offset"]!)
                    : new Answer(Id(events[index]), false, Error: $"websocket {answer["error_code"]}: {answer["message"]}");
            }

            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Unanswered events are reported below.
        }

        return [.. answers.Select((a, i) => a ?? new Answer(Id(events[i]), false, Error: "websocket: no answer"))];
    }
}
