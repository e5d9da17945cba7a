using System.Net;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Every way in (single POST, batch, WebSocket ingest) runs every stage of the publish pipeline:
/// the same event gets the same judgement, its key the same memory, its client the same allowance.
/// One gateway with schemas, idempotency and rate limits on (8 events a window; batches of at most 5).
/// </summary>
public sealed class PipelineEntryPointTests : IAsyncLifetime
{
    private const int EventsPerWindow = 8;
    private readonly EmbeddedKafkaFixture _kafka = new();
    private RegistryServer _registry = null!;
    private GatewayServer _gateway = null!;

    public enum EntryPoint
    {
        Post,
        Batch,
        Socket,
    }

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _registry = await RegistryServer.StartAsync(_kafka.Cluster);
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, GatewayServer.WithRegistry(_registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "true",
            ["Gateway:RateLimit:Enabled"] = "true",
            ["Gateway:RateLimit:PermitsPerWindow"] = "1000",
            ["Gateway:RateLimit:BatchPermitsPerWindow"] = "1000",
            ["Gateway:RateLimit:EventsPerWindow"] = EventsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:RateLimit:IngestSocketsPerClient"] = "2",
            ["Gateway:MaxBatchEvents"] = "5",
        }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    [Theory]
    [InlineData(EntryPoint.Post)]
    [InlineData(EntryPoint.Batch)]
    [InlineData(EntryPoint.Socket)]
    public async Task An_invalid_event_is_refused_as_INVALID_EVENT(EntryPoint entry)
    {
        var invalid = TestEvents.Iot($"evt_inv_{entry}");
        invalid.Remove("timestamp");

        var answer = await SendAsync(entry, $"inv-{entry}", invalid);

        Assert.Equal("INVALID_EVENT", answer.ErrorCode);
        Assert.Contains("timestamp", answer.Details!["missing_fields"]!.AsArray().Select(f => (string?)f));
    }

    [Theory]
    [InlineData(EntryPoint.Post)]
    [InlineData(EntryPoint.Batch)]
    [InlineData(EntryPoint.Socket)]
    public async Task A_schema_refusal_comes_before_deduplication_so_the_corrected_event_takes_the_key(EntryPoint entry)
    {
        var id = $"evt_schema_{entry}_{Guid.NewGuid():N}";
        var refused = TestEvents.Iot(id);
        refused["payload"]!["humidity"] = 200.0;

        var first = await SendAsync(entry, $"schema-{entry}", refused);
        var corrected = await SendAsync(entry, $"schema-{entry}", TestEvents.Iot(id));

        Assert.Equal("SCHEMA_VALIDATION_FAILED", first.ErrorCode);
        Assert.Equal("payload-iot.sensor", (string?)first.Details!["schema_subject"]);

        // Had the refused event claimed its key first, the corrected one would be 422 IDEMPOTENCY_KEY_REUSED.
        Assert.Null(corrected.ErrorCode);
        Assert.False(corrected.Replayed);
    }

    [Theory]
    [InlineData(EntryPoint.Post)]
    [InlineData(EntryPoint.Batch)]
    [InlineData(EntryPoint.Socket)]
    public async Task A_key_already_answered_is_replayed_and_another_event_under_it_refused(EntryPoint entry)
    {
        var id = $"evt_replay_{entry}_{Guid.NewGuid():N}";
        var client = $"replay-{entry}";

        var first = await SendAsync(entry, client, TestEvents.Iot(id));
        var again = await SendAsync(entry, client, TestEvents.Iot(id));
        var other = TestEvents.Iot(id);
        other["payload"]!["temperature"] = 99.5;
        var reused = await SendAsync(entry, client, other);

        Assert.Null(first.ErrorCode);
        Assert.Null(again.ErrorCode);
        Assert.Equal((first.Partition, first.Offset), (again.Partition, again.Offset));
        if (entry == EntryPoint.Post)
        {
            Assert.True(again.Replayed);
        }

        Assert.Equal("IDEMPOTENCY_KEY_REUSED", reused.ErrorCode);
    }

    [Fact]
    public async Task An_event_sent_over_POST_is_replayed_to_the_WebSocket_not_written_twice()
    {
        var id = $"evt_cross_{Guid.NewGuid():N}";
        var posted = await SendAsync(EntryPoint.Post, "cross", TestEvents.Iot(id));
        var socketed = await SendAsync(EntryPoint.Socket, "cross", TestEvents.Iot(id));

        Assert.Null(socketed.ErrorCode);
        Assert.Equal((posted.Partition, posted.Offset), (socketed.Partition, socketed.Offset));
    }

    [Theory]
    [InlineData(EntryPoint.Post)]
    [InlineData(EntryPoint.Batch)]
    [InlineData(EntryPoint.Socket)]
    public async Task Events_are_counted_against_the_clients_allowance(EntryPoint entry)
    {
        var client = $"limited-{entry}-{Guid.NewGuid():N}";
        var taken = 0;
        Answer last = default;

        // Spend the allowance in the entry point's own units: one event per POST, up to five per batch or message.
        while (taken < EventsPerWindow)
        {
            var count = entry == EntryPoint.Post ? 1 : Math.Min(5, EventsPerWindow - taken);
            var answers = await SendManyAsync(entry, client, [.. Enumerable.Range(taken, count).Select(i => TestEvents.Iot($"evt_rl_{client}_{i}"))]);
            Assert.All(answers, a => Assert.Null(a.ErrorCode));
            taken += count;
        }

        last = (await SendManyAsync(entry, client, [TestEvents.Iot($"evt_rl_{client}_over")])).Single();

        Assert.Equal("RATE_LIMITED", last.ErrorCode);
        Assert.True((int)last.Details!["retry_after_seconds"]! >= 1);
        if (entry != EntryPoint.Socket)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, last.Status);
            Assert.True(last.RetryAfter >= TimeSpan.FromSeconds(1));
        }

        // Another client's allowance is its own.
        Assert.Null((await SendAsync(entry, client + "-other", TestEvents.Iot($"evt_rl_{client}_other"))).ErrorCode);
    }

    [Fact]
    public async Task A_batch_larger_than_what_is_left_is_refused_whole()
    {
        var client = $"whole-{Guid.NewGuid():N}";
        Assert.All(await SendManyAsync(EntryPoint.Batch, client, [.. Enumerable.Range(0, 5).Select(i => TestEvents.Iot($"evt_w_{client}_{i}"))]), a => Assert.Null(a.ErrorCode));

        var over = await SendManyAsync(EntryPoint.Batch, client, [.. Enumerable.Range(5, 4).Select(i => TestEvents.Iot($"evt_w_{client}_{i}"))]);

        Assert.Equal(HttpStatusCode.TooManyRequests, Assert.Single(over).Status);
        Assert.Equal(4, (int)over[0].Details!["events"]!);
    }

    [Fact]
    public async Task A_client_holds_at_most_its_share_of_ingest_sockets_and_gets_it_back_when_one_closes()
    {
        var token = GatewayServer.Token("socket-hoarder");
        var first = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", token);
        await using var second = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", token);

        var refused = await UpgradeAsync("socket-hoarder");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Responses.AssertIsErrorResponse(await refused.JsonAsync(), "RATE_LIMITED");

        // Another client is not affected.
        await using var other = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", GatewayServer.Token("socket-neighbour"));

        // Closing one gives its place back (once the server has seen the close).
        await first.DisposeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        TestSocket? third = null;
        while (third is null && DateTime.UtcNow < deadline)
        {
            try
            {
                third = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", token);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                await Task.Delay(50);
            }
        }

        Assert.NotNull(third);
        await third.DisposeAsync();
    }

    /// <summary>A WebSocket upgrade request sent as plain HTTP/1.1, so that a refusal's body can be read.</summary>
    private async Task<HttpResponseMessage> UpgradeAsync(string subject)
    {
        using var client = new HttpClient { BaseAddress = _gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/ingest/iot.sensors");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayServer.Token(subject));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        return await client.SendAsync(request);
    }

    private async Task<Answer> SendAsync(EntryPoint entry, string subject, JsonObject e) => (await SendManyAsync(entry, subject, [e])).Single();

    /// <summary>Sends events the entry point's way (one request each, one batch, one message) and returns each one's answer.</summary>
    private async Task<Answer[]> SendManyAsync(EntryPoint entry, string subject, JsonObject[] events)
    {
        switch (entry)
        {
            case EntryPoint.Post:
            {
                using var client = _gateway.NewClient(subject);
                var answers = new List<Answer>();
                foreach (var e in events)
                {
                    var response = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(e));
                    var body = await response.JsonAsync();
                    answers.Add(new Answer(response.StatusCode, response.Headers.RetryAfter?.Delta, (string?)body["error_code"], body["details"] as JsonObject,
                        (int?)body["partition"], (long?)body["offset"], response.Headers.Contains("Idempotent-Replayed")));
                }

                return [.. answers];
            }

            case EntryPoint.Batch:
            {
                using var client = _gateway.NewClient(subject);
                var response = await client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(new JsonArray([.. events.Select(e => (JsonNode)e.DeepClone())])));
                var body = await response.JsonAsync();
                if (body["results"] is not JsonArray results)
                {
                    return [new Answer(response.StatusCode, response.Headers.RetryAfter?.Delta, (string?)body["error_code"], body["details"] as JsonObject, null, null, false)];
                }

                return [.. results.Select(r => new Answer(response.StatusCode, null, (string?)r!["error"]?["error_code"], r["error"]?["details"] as JsonObject,
                    (int?)r["partition"], (long?)r["offset"], false))];
            }

            default:
            {
                await using var socket = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", GatewayServer.Token(subject));
                await socket.SendAsync(events.Length == 1 ? events[0] : new JsonArray([.. events.Select(e => (JsonNode)e.DeepClone())]));
                var frames = new List<JsonObject> { await socket.ReceiveFrameAsync() };

                // A message refused whole is one frame without an index.
                while (frames.Count < events.Length && frames[0]["index"] is not null)
                {
                    frames.Add(await socket.ReceiveFrameAsync());
                }

                return [.. frames.OrderBy(f => (int?)f["index"] ?? 0).Select(f => new Answer(null, null, (string?)f["error_code"], f["details"] as JsonObject,
                    (int?)f["partition"], (long?)f["offset"], false))];
            }
        }
    }

    public readonly record struct Answer(HttpStatusCode? Status, TimeSpan? RetryAfter, string? ErrorCode, JsonObject? Details, int? Partition, long? Offset, bool Replayed);
}
