using System.Net.WebSockets;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

[Collection(StreamingCollection.Name)]
public sealed class IngestSocketTests(StreamingFixture streaming)
{
    private static JsonObject Event(string eventType, string id, string? userId) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = eventType,
        ["user_id"] = userId,
        ["payload"] = new JsonObject { ["n"] = id },
    };

    [Fact]
    public async Task Every_event_is_acknowledged_where_Kafka_holds_it()
    {
        var (type, topic) = streaming.NewTopic("ingest");
        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/ingest/{type}");

        var ids = Enumerable.Range(0, 30).Select(i => $"evt_{i}").ToList();
        foreach (var id in ids.Take(10))
        {
            await socket.SendAsync(Event(type, id, userId: "u" + id));
        }

        await socket.SendAsync(new JsonArray([.. ids.Skip(10).Select(id => (JsonNode)Event(type, id, userId: "u" + id))]));

        var acks = new Dictionary<string, JsonObject>();
        while (acks.Count < ids.Count)
        {
            var frame = await socket.ReceiveFrameAsync();
            Assert.Equal("ack", (string?)frame["type"]);
            acks.Add((string)frame["event_id"]!, frame);
        }

        Assert.Equal(ids.Order(), acks.Keys.Order());
        foreach (var (id, ack) in acks)
        {
            Assert.Equal(topic, (string?)ack["topic"]);
            var index = ids.IndexOf(id);
            Assert.Equal(index < 10 ? null : index - 10, (int?)ack["index"]);
            var record = streaming.RecordAt(topic, (int)ack["partition"]!, (long)ack["offset"]!);
            Assert.Equal(id, (string?)Responses.ParseRecord(record)["event_id"]);
            Assert.Equal("u" + id, System.Text.Encoding.UTF8.GetString(record.Message.Key!));
        }
    }

    [Fact]
    public async Task Invalid_events_are_answered_with_the_codes_of_the_POST_route()
    {
        var (type, _) = streaming.NewTopic("ingest-errors");
        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/ingest/{type}");

        await socket.SendAsync("{not json");
        var invalidJson = await socket.ReceiveFrameAsync();
        Assert.Equal("error", (string?)invalidJson["type"]);
        Assert.Equal("INVALID_JSON", (string?)invalidJson["error_code"]);
        Assert.True(invalidJson.ContainsKey("event_id"));
        Assert.NotNull(invalidJson["details"]!["reason"]);

        await socket.SendAsync("""{"event_id":"evt_bad","event_type":"x y","payload":[]}""");
        var invalidEvent = await socket.ReceiveFrameAsync();
        Assert.Equal("INVALID_EVENT", (string?)invalidEvent["error_code"]);
        Assert.Contains("timestamp", invalidEvent["details"]!["missing_fields"]!.AsArray().Select(f => (string?)f));
        Assert.NotNull(invalidEvent["details"]!["invalid_fields"]!["payload"]);

        await socket.SendAsync(Event("iot.sensor", "evt_elsewhere", userId: "u"));
        var mismatch = await socket.ReceiveFrameAsync();
        Assert.Equal("TOPIC_MISMATCH", (string?)mismatch["error_code"]);
        Assert.Equal("evt_elsewhere", (string?)mismatch["event_id"]);
        Assert.Equal("events.iot.sensors", (string?)mismatch["details"]!["expected_topic"]);

        await socket.SendAsync("[]");
        Assert.Equal("INVALID_BATCH", (string?)(await socket.ReceiveFrameAsync())["error_code"]);

        // The connection stays usable after refusals.
        await socket.SendAsync(Event(type, "evt_fine", userId: "u"));
        Assert.Equal("ack", (string?)(await socket.ReceiveFrameAsync())["type"]);
    }

    [Fact]
    public async Task A_mixed_array_acknowledges_the_good_events_and_refuses_the_bad_by_index()
    {
        var (type, topic) = streaming.NewTopic("ingest-mixed");
        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/ingest/{topic}");

        await socket.SendAsync(new JsonArray(
            Event(type, "evt_0", userId: "a"),
            new JsonObject { ["event_id"] = "evt_1" },
            Event("clickstream", "evt_2", userId: "b"),
            Event(type, "evt_3", userId: "c"),
            JsonValue.Create(42)));

        var frames = new Dictionary<int, JsonObject>();
        while (frames.Count < 5)
        {
            var frame = await socket.ReceiveFrameAsync();
            frames.Add((int)frame["index"]!, frame);
        }

        Assert.Equal("ack", (string?)frames[0]["type"]);
        Assert.Equal("INVALID_EVENT", (string?)frames[1]["error_code"]);
        Assert.Equal("TOPIC_MISMATCH", (string?)frames[2]["error_code"]);
        Assert.Equal("ack", (string?)frames[3]["type"]);
        Assert.Equal("INVALID_EVENT", (string?)frames[4]["error_code"]);
        foreach (var ack in new[] { frames[0], frames[3] })
        {
            var record = streaming.RecordAt(topic, (int)ack["partition"]!, (long)ack["offset"]!);
            Assert.Equal((string?)ack["event_id"], (string?)Responses.ParseRecord(record)["event_id"]);
        }

        // The refused ones were not written: the whole topic, read to its end, holds only the two.
        var all = await KafkaReader.ReadAllAsync(streaming.Kafka.BootstrapServers, topic);
        Assert.Equal(["evt_0", "evt_3"], all.Select(r => (string)Responses.ParseRecord(r)["event_id"]!).Order());
    }

    [Fact]
    public async Task With_one_unacknowledged_event_allowed_every_event_still_gets_its_answer()
    {
        await using var strict = await GatewayServer.StartAsync(streaming.Kafka.Cluster, new Dictionary<string, string?>(StreamingFixture.Settings)
        {
            ["Gateway:Streaming:IngestMaxUnacknowledged"] = "1",
        });
        var (type, topic) = streaming.NewTopic("ingest-backpressure");
        await using var socket = await TestSocket.ConnectAsync(strict, $"api/v1/ingest/{topic}");

        // Sent without waiting: the gateway reads the next one only when the last was answered.
        for (var i = 0; i < 40; i++)
        {
            await socket.SendAsync(i % 10 == 9 ? "[oops" : Event(type, $"evt_{i}", userId: $"u{i % 3}").ToJsonString());
        }

        var answers = new List<JsonObject>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add(await socket.ReceiveFrameAsync());
        }

        Assert.Equal(36, answers.Count(a => (string?)a["type"] == "ack"));
        Assert.Equal(4, answers.Count(a => (string?)a["error_code"] == "INVALID_JSON"));

        // One at a time, so the answers come back in the order sent.
        Assert.Equal(
            Enumerable.Range(0, 40).Where(i => i % 10 != 9).Select(i => $"evt_{i}"),
            answers.Where(a => (string?)a["type"] == "ack").Select(a => (string?)a["event_id"]));
    }

    [Fact]
    public async Task Binary_frames_and_oversized_messages_close_the_socket_with_their_codes()
    {
        await using var small = await GatewayServer.StartAsync(streaming.Kafka.Cluster, new Dictionary<string, string?>(StreamingFixture.Settings)
        {
            ["Gateway:Streaming:IngestMaxMessageBytes"] = "2048",
        });

        await using (var binary = await TestSocket.ConnectAsync(small, "api/v1/ingest/iot.sensors"))
        {
            await binary.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
            Assert.Null(await binary.ReceiveAsync());
            Assert.Equal(WebSocketCloseStatus.InvalidMessageType, binary.CloseStatus);
        }

        await using var large = await TestSocket.ConnectAsync(small, "api/v1/ingest/iot.sensors");
        var e = TestEvents.Iot("evt_large");
        e["payload"] = new JsonObject { ["blob"] = new string('x', 4096) };
        await large.SendAsync(e);
        Assert.Null(await large.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, large.CloseStatus);
    }
}
