using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Core.Routing;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class PublishTests(GatewayFixture gateway)
{
    private static string NewId() => "evt_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Publish_returns_partition_and_offset_after_ack_and_the_record_is_in_Kafka()
    {
        var id = NewId();
        var before = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot(id, deviceId: "device_456", userId: "user_789")));
        var after = DateTimeOffset.UtcNow;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("accepted", (string?)body["status"]);
        Assert.Equal(id, (string?)body["event_id"]);
        Assert.Equal("events.iot.sensors", (string?)body["topic"]);
        var partition = (int)body["partition"]!;
        Assert.Equal(KafkaMurmur2.Partition("user_789"u8, 12), partition);

        var record = gateway.RecordAt("events.iot.sensors", partition, (long)body["offset"]!);
        Assert.Equal("user_789", Encoding.UTF8.GetString(record.Message.Key!));
        var stored = Responses.ParseRecord(record);
        Assert.Equal(id, (string?)stored["event_id"]);
        Assert.Equal("2024-01-15T10:30:00Z", (string?)stored["timestamp"]);
        Assert.Equal(22.5, (double)stored["payload"]!["temperature"]!);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 30, 0, TimeSpan.Zero), record.Message.Timestamp.UtcDateTime);
        // When the gateway accepted it, for the sink's end-to-end latency: the event's own time is 2024.
        Assert.True(record.Message.Headers.TryGetLastBytes(Core.Events.AcceptedAtHeader.Name, out var acceptedHeader));
        Assert.True(Core.Events.AcceptedAtHeader.TryParse(acceptedHeader, out var accepted));
        Assert.InRange(accepted, before, after);
    }

    [Theory]
    [InlineData("iot.sensors", "iot.sensor", "events.iot.sensors")]
    [InlineData("events.iot.sensors", "iot.sensor", "events.iot.sensors")]
    [InlineData("clickstream", "clickstream", "events.clickstream")]
    [InlineData("transactions", "transaction", "events.transactions")]
    [InlineData("events.transactions", "transaction", "events.transactions")]
    public async Task Short_and_full_topic_names_both_work(string pathTopic, string eventType, string expectedTopic)
    {
        var response = await gateway.Client.PostAsync($"api/v1/events/{pathTopic}", TestEvents.Json(TestEvents.Of(eventType, NewId(), userId: "u1")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedTopic, (string?)(await response.JsonAsync())["topic"]);
    }

    [Fact]
    public async Task Batch_reports_each_event_in_order_and_bad_events_do_not_sink_good_ones()
    {
        var good1 = NewId();
        var good2 = NewId();
        var batch = new JsonArray(
            TestEvents.Of("transaction", good1, userId: "u1"),
            new JsonObject { ["event_id"] = "missing-everything" },
            TestEvents.Of("clickstream", NewId(), userId: "u2"),
            TestEvents.Of("transaction", good2, userId: "u3"));

        var response = await gateway.Client.PostAsync("api/v1/events/transactions/batch", TestEvents.Json(batch));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(2, (int)body["accepted"]!);
        Assert.Equal(2, (int)body["rejected"]!);
        var results = body["results"]!.AsArray();
        Assert.Equal([0, 1, 2, 3], results.Select(r => (int)r!["index"]!));
        Assert.Equal(["accepted", "rejected", "rejected", "accepted"], results.Select(r => (string?)r!["status"]));
        Assert.Equal("INVALID_EVENT", (string?)results[1]!["error"]!["error_code"]);
        Assert.Equal("TOPIC_MISMATCH", (string?)results[2]!["error"]!["error_code"]);

        foreach (var (result, id) in new[] { (results[0]!, good1), (results[3]!, good2) })
        {
            var record = gateway.RecordAt("events.transactions", (int)result["partition"]!, (long)result["offset"]!);
            Assert.Equal(id, (string?)Responses.ParseRecord(record)["event_id"]);
        }
    }

    [Fact]
    public async Task A_fully_valid_batch_is_200()
    {
        var batch = new JsonArray([.. Enumerable.Range(0, 50).Select(i => (JsonNode)TestEvents.Iot(NewId(), deviceId: $"d{i}"))]);
        var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(batch));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(50, (int)(await response.JsonAsync())["accepted"]!);
    }

    [Fact]
    public async Task Health_is_public_and_measures_kafka()
    {
        using var anonymous = new HttpClient { BaseAddress = gateway.Server.BaseAddress };
        var response = await anonymous.GetAsync("api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("healthy", (string?)body["status"]);
        Assert.True((bool)body["kafka_connected"]!);
        Assert.False((bool)body["schema_registry_connected"]!);
        Assert.True((double)body["uptime_seconds"]! >= 0);
    }

    [Fact]
    public async Task The_request_id_of_the_caller_is_kept()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/iot.sensors") { Content = TestEvents.Json(new JsonObject()) };
        request.Headers.Add("X-Request-ID", "req_from_client_42");
        var response = await gateway.Client.SendAsync(request);

        Assert.Equal("req_from_client_42", response.Headers.GetValues("X-Request-ID").Single());
        Assert.Equal("req_from_client_42", (string?)(await response.JsonAsync())["request_id"]);
    }
}
