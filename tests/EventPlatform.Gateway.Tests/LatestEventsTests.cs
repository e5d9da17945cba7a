using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

[Collection(StreamingCollection.Name)]
public sealed class LatestEventsTests(StreamingFixture streaming)
{
    private static JsonObject Event(string eventType, string id, int minute, string? userId = null) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = new DateTimeOffset(2024, 1, 15, 10, minute, 0, TimeSpan.Zero).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["event_type"] = eventType,
        ["user_id"] = userId,
        ["device_id"] = "dev-" + id,
        ["payload"] = new JsonObject { ["n"] = minute, ["text"] = "é \"quoted\"" },
        ["metadata"] = new JsonObject { ["source"] = "test" },
    };

    [Fact]
    public async Task Latest_returns_the_newest_events_first_with_their_position()
    {
        var (type, topic) = streaming.NewTopic("latest");
        var minutes = new[] { 5, 1, 9, 3, 7 };
        var posted = new Dictionary<string, JsonObject>();
        foreach (var (minute, i) in minutes.Select((m, i) => (m, i)))
        {
            var id = $"evt_{i}";
            var response = await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}", TestEvents.Json(Event(type, id, minute, userId: $"u{i}")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            posted[id] = await response.JsonAsync();
        }

        var latest = await streaming.Gateway.Client.GetAsync($"api/v1/events/{type}/latest?limit=3");

        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
        var body = await latest.JsonAsync();
        Assert.Equal(topic, (string?)body["topic"]);
        Assert.Equal(3, (int)body["count"]!);
        var events = body["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(["evt_2", "evt_4", "evt_0"], events.Select(e => (string?)e["event_id"]));
        foreach (var e in events)
        {
            var ack = posted[(string)e["event_id"]!];
            Assert.Equal((int)ack["partition"]!, (int)e["partition"]!);
            Assert.Equal((long)ack["offset"]!, (long)e["offset"]!);
        }

        var first = events[0];
        Assert.Equal("2024-01-15T10:09:00Z", (string?)first["timestamp"]);
        Assert.Equal(type, (string?)first["event_type"]);
        Assert.Equal("u2", (string?)first["user_id"]);
        Assert.Equal("dev-evt_2", (string?)first["device_id"]);
        Assert.Equal("é \"quoted\"", (string?)first["payload"]!["text"]);
        Assert.Equal("test", (string?)first["metadata"]!["source"]);
    }

    [Fact]
    public async Task Latest_without_limit_returns_up_to_the_default()
    {
        var (type, topic) = streaming.NewTopic("latest-default");
        var batch = new JsonArray([.. Enumerable.Range(0, 4).Select(i => (JsonNode)Event(type, $"evt_{i}", i))]);
        Assert.Equal(HttpStatusCode.OK, (await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}/batch", TestEvents.Json(batch))).StatusCode);

        var body = await (await streaming.Gateway.Client.GetAsync($"api/v1/events/{topic}/latest")).JsonAsync();

        Assert.Equal(4, (int)body["count"]!);
        Assert.Equal(["evt_3", "evt_2", "evt_1", "evt_0"], body["events"]!.AsArray().Select(e => (string?)e!["event_id"]));
    }

    [Fact]
    public async Task An_empty_topic_has_no_latest_events()
    {
        var (type, _) = streaming.NewTopic("latest-empty");
        var body = await (await streaming.Gateway.Client.GetAsync($"api/v1/events/{type}/latest?limit=10")).JsonAsync();

        Assert.Equal(0, (int)body["count"]!);
        Assert.Empty(body["events"]!.AsArray());
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=-5")]
    [InlineData("limit=ten")]
    [InlineData("limit=1.5")]
    [InlineData("limit=1&limit=2")]
    public async Task A_limit_outside_1_to_the_maximum_is_400(string query)
    {
        var response = await streaming.Gateway.Client.GetAsync($"api/v1/events/iot.sensors/latest?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Responses.AssertIsErrorResponse(body, "INVALID_PARAMETER");
    }

    [Theory]
    [InlineData("aggregated")]
    [InlineData("events.dlq")]
    [InlineData("never-written-to")]
    public async Task A_topic_that_takes_no_events_or_does_not_exist_is_404(string topic)
    {
        var response = await streaming.Gateway.Client.GetAsync($"api/v1/events/{topic}/latest");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), "UNKNOWN_TOPIC");
    }

    [Fact]
    public async Task Latest_needs_a_token()
    {
        using var anonymous = new HttpClient { BaseAddress = streaming.Gateway.BaseAddress };
        var response = await anonymous.GetAsync("api/v1/events/iot.sensors/latest");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), "AUTHENTICATION_REQUIRED");
    }

    [Fact]
    public async Task Latest_shows_events_published_through_every_gateway_instance()
    {
        var (type, topic) = streaming.NewTopic("latest-two");
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var gateway = i % 2 == 0 ? streaming.Gateway : streaming.Other;
            var id = $"evt_{(i % 2 == 0 ? "a" : "b")}_{i}";
            ids.Add(id);
            Assert.Equal(HttpStatusCode.OK, (await gateway.Client.PostAsync($"api/v1/events/{topic}", TestEvents.Json(Event(type, id, i, userId: $"user{i}")))).StatusCode);
        }

        foreach (var gateway in new[] { streaming.Gateway, streaming.Other })
        {
            var body = await (await gateway.Client.GetAsync($"api/v1/events/{topic}/latest?limit=100")).JsonAsync();
            Assert.Equal(Enumerable.Reverse(ids), body["events"]!.AsArray().Select(e => (string?)e!["event_id"]));
        }
    }

    [Fact]
    public async Task Records_that_are_not_events_are_skipped_and_made_up_for()
    {
        var (type, topic) = streaming.NewTopic("latest-garbage");
        var key = StreamingFixture.KeyFor(0);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}", TestEvents.Json(Event(type, $"evt_{i}", i, userId: key)))).StatusCode);
        }

        // Newer than every event, and all in the same partition: the tail of partition 0 is garbage.
        foreach (var garbage in new[] { "not json", "{\"event_id\":\"half\"}", "[1,2,3]" })
        {
            await streaming.Raw.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Value = System.Text.Encoding.UTF8.GetBytes(garbage) });
        }

        await streaming.Raw.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Value = null! });

        var body = await (await streaming.Gateway.Client.GetAsync($"api/v1/events/{topic}/latest?limit=3")).JsonAsync();

        Assert.Equal(["evt_3", "evt_2", "evt_1"], body["events"]!.AsArray().Select(e => (string?)e!["event_id"]));
    }

    [Fact]
    public async Task Events_written_by_another_producer_are_shown_in_canonical_form()
    {
        var (type, topic) = streaming.NewTopic("latest-foreign");
        var foreign = $$"""{"payload":{"a":1},"event_type":"{{type}}","timestamp":"2024-01-15T12:00:00+02:00","event_id":"evt_foreign","extra":"ignored"}""";
        await streaming.Raw.ProduceAsync(new TopicPartition(topic, 1), new Message<byte[]?, byte[]> { Value = System.Text.Encoding.UTF8.GetBytes(foreign) });

        var body = await (await streaming.Gateway.Client.GetAsync($"api/v1/events/{topic}/latest?limit=5")).JsonAsync();

        var e = Assert.Single(body["events"]!.AsArray())!.AsObject();
        Assert.Equal("""{"event_id":"evt_foreign","timestamp":"2024-01-15T10:00:00Z","event_type":"__TYPE__","user_id":null,"device_id":null,"payload":{"a":1},"metadata":null,"partition":1,"offset":0}""".Replace("__TYPE__", type, StringComparison.Ordinal), e.ToJsonString());
    }
}
