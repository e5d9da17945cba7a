using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Gateway.Streaming;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

[Collection(StreamingCollection.Name)]
public sealed class StreamTests(StreamingFixture streaming)
{
    private static JsonObject Event(string eventType, string id, string? userId = null, string? deviceId = null, JsonObject? payload = null) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = eventType,
        ["user_id"] = userId,
        ["device_id"] = deviceId,
        ["payload"] = payload ?? new JsonObject { ["v"] = 1 },
    };

    private async Task<JsonObject> PostAsync(GatewayServer gateway, string topic, JsonObject e)
    {
        var response = await gateway.Client.PostAsync($"api/v1/events/{topic}", TestEvents.Json(e));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    [Fact]
    public async Task The_stream_sends_what_is_published_after_connecting_and_nothing_before()
    {
        var (type, topic) = streaming.NewTopic("stream");
        var before = await PostAsync(streaming.Gateway, topic, Event(type, "evt_before", userId: "u1"));

        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{type}");
        var subscribed = await socket.ReceiveFrameAsync();
        Assert.Equal("subscribed", (string?)subscribed["type"]);
        Assert.Equal(topic, (string?)subscribed["topic"]);
        var start = subscribed["start_offsets"]!.AsArray().ToDictionary(p => (int)p!["partition"]!, p => (long)p!["offset"]!);
        Assert.Equal(StreamingFixture.Partitions, start.Count);
        Assert.Equal((long)before["offset"]! + 1, start[(int)before["partition"]!]);

        // Through the other gateway and straight into Kafka too: the stream reads Kafka, not its own gateway.
        var a = await PostAsync(streaming.Gateway, topic, Event(type, "evt_a", userId: "u1"));
        var b = await PostAsync(streaming.Other, topic, Event(type, "evt_b", userId: "u1"));
        await streaming.Raw.ProduceAsync(new TopicPartition(topic, (int)a["partition"]!), new Message<byte[]?, byte[]> { Value = "not an event"u8.ToArray() });
        var c = await PostAsync(streaming.Other, topic, Event(type, "evt_c", userId: "u1"));

        foreach (var expected in new[] { a, b, c })
        {
            var frame = await socket.ReceiveFrameAsync();
            Assert.Equal("event", (string?)frame["type"]);
            Assert.Equal((string?)expected["event_id"], (string?)frame["event_id"]);
            Assert.Equal((int)expected["partition"]!, (int)frame["partition"]!);
            Assert.Equal((long)expected["offset"]!, (long)frame["offset"]!);
            Assert.Equal(type, (string?)frame["event_type"]);
            Assert.Equal("2024-01-15T10:30:00Z", (string?)frame["timestamp"]);
            Assert.Equal(1, (int)frame["payload"]!["v"]!);
        }
    }

    [Fact]
    public async Task Filters_send_only_the_matching_events()
    {
        var (type, topic) = streaming.NewTopic("filters");
        await using var byUser = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}?user_id=alice");
        await using var byDevice = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}?device_id=d2&event_type={type}");
        await using var byOtherType = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}?event_type=something.else");
        var subscribed = await byDevice.ReceiveFrameAsync();
        Assert.Equal("d2", (string?)subscribed["filters"]!["device_id"]);
        Assert.Equal(type, (string?)subscribed["filters"]!["event_type"]);
        Assert.Equal("subscribed", (string?)(await byUser.ReceiveFrameAsync())["type"]);
        Assert.Equal("subscribed", (string?)(await byOtherType.ReceiveFrameAsync())["type"]);

        var events = new[]
        {
            Event(type, "evt_1", userId: "alice", deviceId: "d1"),
            Event(type, "evt_2", userId: "bob", deviceId: "d2"),
            Event(type, "evt_3", userId: "alice", deviceId: "d2"),
            Event(type, "evt_4", userId: null, deviceId: "d3"),
            Event(type, "evt_5", userId: "alice", deviceId: null),
        };
        foreach (var e in events)
        {
            await PostAsync(streaming.Gateway, topic, e);
        }

        // The last events match every filter but the third socket's, then only the third's (written by
        // another producer: the gateway would not take that type on this topic). Each socket saw all it should.
        await PostAsync(streaming.Gateway, topic, Event(type, "evt_end", userId: "alice", deviceId: "d2"));
        var otherType = Event("something.else", "evt_other", userId: "carol", deviceId: "d9");
        await streaming.Raw.ProduceAsync(topic, new Message<byte[]?, byte[]> { Value = System.Text.Encoding.UTF8.GetBytes(otherType.ToJsonString()) });

        Assert.Equal(["evt_1", "evt_3", "evt_5", "evt_end"], await ReadIdsUntilAsync(byUser, "evt_end"));
        Assert.Equal(["evt_2", "evt_3", "evt_end"], await ReadIdsUntilAsync(byDevice, "evt_end"));
        Assert.Equal(["evt_other"], await ReadIdsUntilAsync(byOtherType, "evt_other"));
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_closed_as_a_slow_consumer()
    {
        await using var tiny = await GatewayServer.StartAsync(streaming.Kafka.Cluster, new Dictionary<string, string?>(StreamingFixture.Settings)
        {
            ["Gateway:Streaming:SubscriberQueueCapacity"] = "4",
            ["Gateway:Streaming:CloseTimeout"] = "00:00:30",
        });
        var (type, topic) = streaming.NewTopic("slow");
        var registry = (StreamHubRegistry)tiny.App.Services.GetService(typeof(StreamHubRegistry))!;
        await using var slow = await TestSocket.ConnectAsync(tiny, $"api/v1/stream/{topic}");
        Assert.Equal(1, registry.SubscriberCount(topic));

        // Large events fill the socket's buffers, then the queue of 4 overflows while the client reads nothing.
        var payload = new JsonObject { ["blob"] = new string('x', 32 * 1024) };
        var posted = 0;
        while (registry.SubscriberCount(topic) > 0)
        {
            Assert.True(posted < 2000, "the subscriber was never dropped");
            var batch = new JsonArray([.. Enumerable.Range(0, 20).Select(i => (JsonNode)Event(type, $"evt_{posted + i}", userId: $"u{i}", payload: payload.DeepClone().AsObject()))]);
            Assert.Equal(HttpStatusCode.OK, (await tiny.Client.PostAsync($"api/v1/events/{topic}/batch", TestEvents.Json(batch))).StatusCode);
            posted += 20;
        }

        // Now read: what was already sent, then the close frame with the documented code.
        var received = 0;
        while (await slow.ReceiveAsync() is not null)
        {
            received++;
        }

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, slow.CloseStatus);
        Assert.StartsWith("slow consumer", slow.Socket.CloseStatusDescription, StringComparison.Ordinal);
        Assert.InRange(received, 1, posted);
    }

    [Fact]
    public async Task Sockets_of_a_topic_share_one_hub_that_stops_after_the_last_leaves()
    {
        var (type, topic) = streaming.NewTopic("hub");
        var first = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}");
        var second = await TestSocket.ConnectAsync(streaming.Gateway, $"api/v1/stream/{topic}?user_id=x");
        Assert.Equal(2, streaming.Hubs.SubscriberCount(topic));

        var e = await PostAsync(streaming.Gateway, topic, Event(type, "evt_shared", userId: "x"));
        foreach (var socket in new[] { first, second })
        {
            Assert.Equal("subscribed", (string?)(await socket.ReceiveFrameAsync())["type"]);
            Assert.Equal((long)e["offset"]!, (long)(await socket.ReceiveFrameAsync())["offset"]!);
        }

        await first.DisposeAsync();
        await second.DisposeAsync();
        Assert.Equal(WebSocketCloseStatus.NormalClosure, first.CloseStatus);
        await Eventually.HoldsAsync(() => !streaming.Hubs.HasHub(topic));
    }

    [Fact]
    public async Task Connecting_without_a_token_is_refused_with_401_before_the_upgrade()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.ConnectRefusedAsync(streaming.Gateway, "api/v1/stream/iot.sensors", withToken: false));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.ConnectRefusedAsync(streaming.Gateway, "api/v1/ingest/iot.sensors", withToken: false));

        using var anonymous = new HttpClient { BaseAddress = streaming.Gateway.BaseAddress };
        var response = await anonymous.GetAsync("api/v1/stream/iot.sensors");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), "AUTHENTICATION_REQUIRED");
    }

    [Theory]
    [InlineData("api/v1/stream/{0}")]
    [InlineData("api/v1/ingest/{0}")]
    public async Task A_browser_style_query_string_token_opens_both_WebSocket_routes(string route)
    {
        var (_, topic) = streaming.NewTopic("qstoken");
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, route, topic) + "?access_token=" + Uri.EscapeDataString(GatewayServer.Token());
        await using var socket = await TestSocket.ConnectAsync(streaming.Gateway, path, withToken: false);
        Assert.Equal(WebSocketState.Open, socket.Socket.State);

        var bad = string.Format(System.Globalization.CultureInfo.InvariantCulture, route, topic) + "?access_token=not-a-jwt";
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.ConnectRefusedAsync(streaming.Gateway, bad, withToken: false));
    }

    [Theory]
    [InlineData("api/v1/events/iot.sensors/latest")]
    [InlineData("api/v1/stream/iot.sensors")]
    public async Task A_query_string_token_is_ignored_outside_a_WebSocket_upgrade(string path)
    {
        using var anonymous = new HttpClient { BaseAddress = streaming.Gateway.BaseAddress };
        var response = await anonymous.GetAsync(path + "?access_token=" + Uri.EscapeDataString(GatewayServer.Token()));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), "AUTHENTICATION_REQUIRED");
    }

    [Theory]
    [InlineData("api/v1/stream/iot.sensors")]
    [InlineData("api/v1/ingest/iot.sensors")]
    public async Task A_plain_GET_to_a_WebSocket_route_is_400(string path)
    {
        var response = await streaming.Gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), "WEBSOCKET_REQUIRED");
    }

    [Theory]
    [InlineData("api/v1/stream/aggregated", HttpStatusCode.NotFound)]
    [InlineData("api/v1/stream/not-created-yet", HttpStatusCode.NotFound)]
    [InlineData("api/v1/ingest/events.dlq", HttpStatusCode.NotFound)]
    [InlineData("api/v1/stream/iot.sensors?user_id=a&user_id=b", HttpStatusCode.BadRequest)]
    public async Task Bad_subscriptions_are_refused_before_the_upgrade(string path, HttpStatusCode status) =>
        Assert.Equal(status, await TestSocket.ConnectRefusedAsync(streaming.Gateway, path, withToken: true));

    [Fact]
    public async Task Shutting_down_closes_subscribers_with_1001()
    {
        var gateway = await GatewayServer.StartAsync(streaming.Kafka.Cluster, StreamingFixture.Settings);
        var (_, topic) = streaming.NewTopic("shutdown");
        await using var socket = await TestSocket.ConnectAsync(gateway, $"api/v1/stream/{topic}");
        Assert.Equal("subscribed", (string?)(await socket.ReceiveFrameAsync())["type"]);

        var stopping = gateway.DisposeAsync().AsTask();
        Assert.Null(await socket.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        await socket.DisposeAsync();
        await stopping;
    }

    private static async Task<List<string>> ReadIdsUntilAsync(TestSocket socket, string lastId)
    {
        var ids = new List<string>();
        while (true)
        {
            var frame = await socket.ReceiveFrameAsync();
            var id = (string)frame["event_id"]!;
            ids.Add(id);
            if (id == lastId)
            {
                return ids;
            }
        }
    }
}
