using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Idempotent publishing across requests, gateway instances and restarts: one broker, gateways
/// started and stopped by the tests.
/// </summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    private static HttpRequestMessage Post(JsonObject e, string? key, string path = "api/v1/events/iot.sensors")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = TestEvents.Json(e) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return request;
    }

    /// <summary>
    /// How many copies of the event Kafka holds. First a marker event through each gateway that
    /// took part, on the same key (so the same partition) as the test's events, acknowledged: a
    /// stray copy that gateway was still sending lands before it. Then every partition is read to
    /// its end and every copy counted, wherever it landed.
    /// </summary>
    private async Task<int> CopiesInKafkaAsync(string eventId, params GatewayServer[] through) =>
        (await AllCopiesInKafkaAsync(through)).GetValueOrDefault(eventId);

    /// <summary>Copies in Kafka of every event id, counted as <see cref="CopiesInKafkaAsync(string, GatewayServer[])"/> does.</summary>
    private async Task<Dictionary<string, int>> AllCopiesInKafkaAsync(GatewayServer[] through)
    {
        foreach (var gateway in through)
        {
            var marker = await gateway.Client.SendAsync(Post(TestEvents.Iot($"evt_marker_{Guid.NewGuid():N}"), key: null));
            Assert.Equal(HttpStatusCode.OK, marker.StatusCode);
        }

        var records = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        return records.CountBy(r => (string)Responses.ParseRecord(r)["event_id"]!).ToDictionary();
    }

    [Fact]
    public async Task The_copy_count_sees_a_second_copy_in_another_partition()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_twice_{Guid.NewGuid():N}";
        var first = await (await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key: null))).JsonAsync();
        var partition = (int)first["partition"]!;
        Assert.Equal(1, await CopiesInKafkaAsync(id, gateway));

        // The same record again, written behind the gateway's back into the partition after it.
        var stored = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        var original = stored.Single(r => (string?)Responses.ParseRecord(r)["event_id"] == id);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        var partitions = TopicPlan.Seed.Topics.Single(t => t.Name == "events.iot.sensors").Partitions;
        await producer.ProduceAsync(new TopicPartition("events.iot.sensors", (partition + 1) % partitions), original.Message);

        Assert.Equal(2, await CopiesInKafkaAsync(id, gateway));
    }

    [Fact]
    public async Task A_retried_request_gets_the_first_answer_and_writes_nothing_new()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_idem_{Guid.NewGuid():N}";
        var key = "order-" + Guid.NewGuid().ToString("N");

        var first = await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key));
        var second = await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var a = await first.JsonAsync();
        var b = await second.JsonAsync();
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await CopiesInKafkaAsync(id, gateway));
    }

    [Fact]
    public async Task Without_a_header_the_event_id_is_the_key()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_idem_{Guid.NewGuid():N}";

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            responses.Add(await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key: null)));
        }

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, await CopiesInKafkaAsync(id, gateway));
    }

    [Fact]
    public async Task Concurrent_retries_through_two_gateway_instances_write_one_copy()
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_race_{Guid.NewGuid():N}";

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? one : two).Client.SendAsync(Post(TestEvents.Iot(id), key: "race-key-" + id))));

        var bodies = await Task.WhenAll(responses.Select(r => r.JsonAsync()));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(bodies.Select(b => ((int)b["partition"]!, (long)b["offset"]!)).Distinct());
        Assert.Equal(19, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(1, await CopiesInKafkaAsync(id, one, two));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Bursts_of_retries_through_two_instances_write_one_copy_each_with_any_records_in_flight(int recordsInFlight)
    {
        // Several records of one partition unacknowledged at once must still put each key's entries in
        // the log in the order they were appended: a done ahead of its claim would lose the key.
        var settings = new Dictionary<string, string?> { ["Gateway:Idempotency:RecordsInFlight"] = recordsInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster, settings);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster, settings);
        var ids = Enumerable.Range(0, 60).Select(i => $"evt_inflight{recordsInFlight}_{i}_{Guid.NewGuid():N}").ToArray();

        var sends = ids.SelectMany(id => Enumerable.Range(0, 4).Select(async k =>
        {
            using var response = await (k % 2 == 0 ? one : two).Client.SendAsync(Post(TestEvents.Iot(id), key: null));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            return (Id: id, Position: ((int)body["partition"]!, (long)body["offset"]!));
        }));
        var answers = await Task.WhenAll(sends);

        Assert.All(answers.GroupBy(a => a.Id), g => Assert.Single(g.Select(a => a.Position).Distinct()));
        var copies = await AllCopiesInKafkaAsync([one, two]);
        Assert.All(ids, id => Assert.Equal(1, copies.GetValueOrDefault(id)));
    }

    [Fact]
    public async Task A_restarted_gateway_remembers_keys_from_Kafka()
    {
        var id = $"evt_restart_{Guid.NewGuid():N}";
        JsonObject first;
        await using (var before = await GatewayServer.StartAsync(_kafka.Cluster))
        {
            first = await (await before.Client.SendAsync(Post(TestEvents.Iot(id), key: null))).JsonAsync();
        }

        await using var after = await GatewayServer.StartAsync(_kafka.Cluster);
        var again = await after.Client.SendAsync(Post(TestEvents.Iot(id), key: null));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.ToJsonString(), (await again.JsonAsync()).ToJsonString());
        Assert.Equal(1, await CopiesInKafkaAsync(id, after));
    }

    [Fact]
    public async Task A_key_reused_for_another_event_is_422_and_keys_are_per_client()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var key = "shared-" + Guid.NewGuid().ToString("N");

        var first = await gateway.Client.SendAsync(Post(TestEvents.Iot($"evt_a_{Guid.NewGuid():N}"), key));
        var reused = await gateway.Client.SendAsync(Post(TestEvents.Iot($"evt_b_{Guid.NewGuid():N}"), key));
        using var otherClient = gateway.NewClient("someone-else");
        var other = await otherClient.SendAsync(Post(TestEvents.Iot($"evt_c_{Guid.NewGuid():N}"), key));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Responses.AssertIsErrorResponse(await reused.JsonAsync(), "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Another_event_under_a_used_event_id_is_422_and_is_not_answered_with_the_first_ones_position()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_same_id_{Guid.NewGuid():N}";
        var original = TestEvents.Iot(id);
        var changed = TestEvents.Iot(id);
        changed["payload"] = new JsonObject { ["temperature"] = 99.5 };

        var first = await gateway.Client.SendAsync(Post(original, key: null));
        var other = await gateway.Client.SendAsync(Post(changed, key: null));
        var batch = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(new JsonArray(changed.DeepClone())));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Responses.AssertIsErrorResponse(await other.JsonAsync(), "IDEMPOTENCY_KEY_REUSED");
        var slot = (await batch.JsonAsync())["results"]![0]!;
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", (string?)slot["error"]?["error_code"]);
        var copies = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        var stored = Assert.Single(copies, r => (string?)Responses.ParseRecord(r)["event_id"] == id);
        Assert.Equal(22.5, (double)Responses.ParseRecord(stored)["payload"]!["temperature"]!);
    }

    [Fact]
    public async Task The_same_event_written_with_other_whitespace_is_a_replay()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var id = $"evt_ws_{Guid.NewGuid():N}";
        var compact = TestEvents.Iot(id).ToJsonString();
        var indented = TestEvents.Iot(id).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

        var first = await gateway.Client.PostAsync("api/v1/events/iot.sensors", new StringContentJson(compact));
        var again = await gateway.Client.PostAsync("api/v1/events/iot.sensors", new StringContentJson(indented));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await CopiesInKafkaAsync(id, gateway));
    }

    [Fact]
    public async Task A_claim_timeout_shorter_than_the_longest_publish_stops_the_gateway_at_start()
    {
        // 3 attempts of 5 s plus backoffs of 1 s and 2 s (+10 % jitter) may take 18.3 s.
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?> { ["Gateway:Idempotency:ClaimTimeout"] = "00:00:18" }));
        Assert.Contains("ClaimTimeout", refused.Message, StringComparison.Ordinal);

        await using var enough = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?> { ["Gateway:Idempotency:ClaimTimeout"] = "00:00:19" });
        await using var off = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:ClaimTimeout"] = "00:00:18",
            ["Gateway:Idempotency:Enabled"] = "false",
        });
    }

    [Fact]
    public async Task A_batch_resent_whole_writes_each_event_once()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var ids = Enumerable.Range(0, 5).Select(i => $"evt_batch_{i}_{Guid.NewGuid():N}").ToArray();
        var batch = new JsonArray([.. ids.Select(id => (JsonNode)TestEvents.Iot(id))]);

        var first = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(batch));
        var second = await gateway.Client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(batch.DeepClone()));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // The same answers, each slot of the resend marked as a replay.
        var firstSlots = (await first.JsonAsync())["results"]!.AsArray();
        var secondSlots = (await second.JsonAsync())["results"]!.AsArray();
        Assert.All(firstSlots, slot => Assert.Null(slot!["replayed"]));
        Assert.All(secondSlots, slot => Assert.True((bool)slot!["replayed"]!));
        foreach (var slot in secondSlots)
        {
            slot!.AsObject().Remove("replayed");
        }

        Assert.Equal(firstSlots.ToJsonString(), secondSlots.ToJsonString());
        var copies = await AllCopiesInKafkaAsync([gateway]);
        Assert.All(ids, id => Assert.Equal(1, copies.GetValueOrDefault(id)));
    }

    [Fact]
    public async Task An_event_sent_again_on_a_socket_is_acknowledged_as_a_replay_at_its_first_position()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        await using var socket = await TestSocket.ConnectAsync(gateway, "api/v1/ingest/iot.sensors");
        var id = $"evt_socket_again_{Guid.NewGuid():N}";

        await socket.SendAsync(TestEvents.Iot(id));
        var first = await socket.ReceiveFrameAsync();
        await socket.SendAsync(TestEvents.Iot(id));
        var second = await socket.ReceiveFrameAsync();

        Assert.Equal("ack", (string?)first["type"]);
        Assert.Null(first["replayed"]);
        Assert.Equal("ack", (string?)second["type"]);
        Assert.True((bool)second["replayed"]!);
        Assert.Equal((int)first["partition"]!, (int)second["partition"]!);
        Assert.Equal((long)first["offset"]!, (long)second["offset"]!);
        Assert.Equal(1, await CopiesInKafkaAsync(id, gateway));
    }

    [Fact]
    public async Task A_single_gateway_decides_its_claims_at_the_acknowledgement_fetches_nothing_back_and_still_writes_each_event_once()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var ids = Enumerable.Range(0, 20).Select(i => $"evt_ack_{i}_{Guid.NewGuid():N}").ToArray();
        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key: null))).StatusCode);
        }

        // The same again: every one a replay, decided from records applied at their acknowledgement.
        foreach (var id in ids)
        {
            var again = await gateway.Client.SendAsync(Post(TestEvents.Iot(id), key: null));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.True(again.Headers.Contains(EventPlatform.Gateway.Idempotency.IdempotentPublisher.ReplayedHeader));
        }

        // Nobody else writes the log, so every record is applied at its acknowledgement and none is
        // fetched back (the log was empty at the start: nothing to catch up on either).
        var scrape = await PrometheusScrape.TakeAsync(gateway.Client);
        Assert.True(scrape.ValueOrZero("idempotency_records_applied_at_ack_total") >= ids.Length, $"applied at ack: {scrape.ValueOrZero("idempotency_records_applied_at_ack_total")}");
        Assert.Equal(0, scrape.ValueOrZero("idempotency_records_fetched_total"));
        var copies = await AllCopiesInKafkaAsync([gateway]);
        Assert.All(ids, id => Assert.Equal(1, copies.GetValueOrDefault(id)));
    }
}
