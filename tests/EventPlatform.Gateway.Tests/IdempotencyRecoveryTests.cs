using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Claims left without a result (a winner that died after its event was acknowledged, a publish
/// that may have written) are resolved from the event topic, never by publishing a second copy.
/// </summary>
public sealed class IdempotencyRecoveryTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    // The longest publish is one attempt of 1 s, so a claim may be resolved after 2 s.
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Kafka:Producer:MessageTimeout"] = "00:00:01",
        ["Gateway:PublishMaxAttempts"] = "1",
        ["Gateway:Idempotency:ClaimTimeout"] = "00:00:02",
    };

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    private static HttpRequestMessage Post(JsonObject e) => new(HttpMethod.Post, "api/v1/events/iot.sensors") { Content = TestEvents.Json(e) };

    private async Task<int> CopiesAsync(string id, GatewayServer through)
    {
        // The marker is published with these tests' 1 s message timeout and one attempt: on a loaded
        // machine that can time out (503, not written), so it is sent again, as a client would.
        var marker = TestEvents.Iot($"evt_marker_{Guid.NewGuid():N}");
        HttpResponseMessage answer;
        var attempts = 0;
        while (true)
        {
            answer = await through.Client.SendAsync(Post((JsonObject)marker.DeepClone()));
            if (answer.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict) || ++attempts >= 20)
            {
                break;
            }

            // A claim left "possibly persisted" answers 409 until it can be resolved (ClaimTimeout, 2 s here).
            await Task.Delay(300);
        }

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var records = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        return records.Count(r => (string?)Responses.ParseRecord(r)["event_id"] == id);
    }

    private static IdempotentPublisher Publisher(GatewayServer gateway) => gateway.App.Services.GetRequiredService<IdempotentPublisher>();

    /// <summary>Retries until the answer is not a 409 (in progress) or a 503: the claim becomes resolvable after ClaimTimeout.</summary>
    private static async Task<HttpResponseMessage> RetryAsync(GatewayServer gateway, JsonObject e)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await gateway.Client.SendAsync(Post((JsonObject)e.DeepClone()));
            if (response.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable) || attempt > 20)
            {
                return response;
            }
        }
    }

    [Fact]
    public async Task A_winner_that_dies_after_the_ack_leaves_a_claim_another_instance_settles_with_the_event_already_written()
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        var hung = new TaskCompletionSource();
        var acknowledged = new TaskCompletionSource();
        // Between the event's acknowledgement and its done entry, the winner stops for good.
        Publisher(one).AfterPublishForTests = () => { acknowledged.TrySetResult(); return hung.Task; };
        var id = $"evt_dies_{Guid.NewGuid():N}";
        var e = TestEvents.Iot(id);

        var lost = one.Client.SendAsync(Post(e));
        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var retry = await RetryAsync(two, e);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await CopiesAsync(id, two));
        hung.SetResult();
        await lost;
        Assert.Equal(1, await CopiesAsync(id, one));
    }

    [Fact]
    public async Task A_publish_step_that_throws_keeps_the_key_and_a_retry_replays_the_event_it_wrote()
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        Publisher(one).AfterPublishForTests = () => throw new InvalidOperationException("the gateway cannot tell");
        var id = $"evt_throws_{Guid.NewGuid():N}";
        var e = TestEvents.Iot(id);

        var first = await one.Client.SendAsync(Post(e));
        var retries = await Task.WhenAll(RetryAsync(one, e), RetryAsync(two, e), RetryAsync(two, e));

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.All(retries, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(await Task.WhenAll(retries.Select(async r => (await r.JsonAsync()).ToJsonString())).ContinueWith(t => t.Result.Distinct()));
        Assert.Equal(1, await CopiesAsync(id, two));
    }

    [Fact]
    public async Task Produce_requests_timing_out_in_the_broker_fail_the_publish_and_retries_on_two_instances_write_one_copy()
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        var injected = 0;
        // Every produce request times out at the broker for a while; librdkafka retries them and
        // gives up after its 1 s message timeout. (The mock cluster could not be made to return
        // "possibly persisted" here: librdkafka reports these as not persisted.)
        Publisher(one).BeforePublishForTests = () =>
        {
            if (Interlocked.Exchange(ref injected, 1) == 0)
            {
                _kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, [.. Enumerable.Repeat(ErrorCode.RequestTimedOut, 60)]);
            }

            return Task.CompletedTask;
        };
        var id = $"evt_doubt_{Guid.NewGuid():N}";
        var e = TestEvents.Iot(id);

        var first = await one.Client.SendAsync(Post(e));
        var firstBody = await first.JsonAsync();
        _kafka.Cluster.ClearRequestErrors(KafkaApiKey.Produce);
        var retries = await Task.WhenAll(RetryAsync(one, e), RetryAsync(two, e));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.All(retries, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.NotNull(firstBody["details"]?["possibly_persisted"]);
        Assert.Equal(1, await CopiesAsync(id, two));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_possibly_persisted_failure_holds_the_key_and_the_retry_finds_out_whether_the_event_was_written(bool written)
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster, Fast);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        var id = $"evt_maybe_{Guid.NewGuid():N}";
        var value = System.Text.Encoding.UTF8.GetBytes(TestEvents.Iot(id).ToJsonString());
        var request = new IdempotencyRequest("maybe-client", id, "events.iot.sensors", 42);
        var steps = 0;

        // The step writes the event (or not) and reports what librdkafka reports when an ack was lost.
        async Task<PublishOutcome> Step(bool write, Headers? headers, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref steps);
            if (write)
            {
                await producer.ProduceAsync("events.iot.sensors", new Message<byte[]?, byte[]> { Value = value, Headers = headers }, cancellationToken);
            }

            return PublishOutcome.Failed("events.iot.sensors", new PublishFailure(FailureKind.Unavailable, "KAFKA_UNAVAILABLE", "lost ack",
                new JsonObject { ["possibly_persisted"] = true }));
        }

        var first = await Publisher(one).PublishAsync(request, written, Step, CancellationToken.None);
        // A retry through the other instance: it waits for the claim to be resolvable, then reads.
        var retry = await Publisher(two).PublishAsync(request, true, async (_, headers, ct) =>
        {
            Interlocked.Increment(ref steps);
            var r = await producer.ProduceAsync("events.iot.sensors", new Message<byte[]?, byte[]> { Value = value, Headers = headers }, ct);
            return PublishOutcome.Ok(r.Topic, r.Partition.Value, r.Offset.Value, DateTimeOffset.UtcNow);
        }, CancellationToken.None);

        Assert.False(first.Outcome.Accepted);
        Assert.True(retry.Outcome.Accepted);
        Assert.Equal(written, retry.Replayed);
        Assert.Equal(written ? 1 : 2, steps);
        Assert.Equal(1, await CopiesAsync(id, two));
    }

    [Fact]
    public async Task Many_keys_sent_to_two_instances_at_once_are_each_written_once()
    {
        await using var one = await GatewayServer.StartAsync(_kafka.Cluster);
        await using var two = await GatewayServer.StartAsync(_kafka.Cluster);
        var ids = Enumerable.Range(0, 200).Select(i => $"evt_race_many_{i}_{Guid.NewGuid():N}").ToArray();

        var responses = await Task.WhenAll(ids.SelectMany(id => new[] { one, two, one, two }.Select(g => g.Client.SendAsync(Post(TestEvents.Iot(id))))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(ids.Length * 3, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        var marker = await one.Client.SendAsync(Post(TestEvents.Iot($"evt_marker_{Guid.NewGuid():N}")));
        Assert.Equal(HttpStatusCode.OK, marker.StatusCode);
        var copies = (await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors"))
            .CountBy(r => (string)Responses.ParseRecord(r)["event_id"]!).ToDictionary();
        Assert.All(ids, id => Assert.Equal(1, copies.GetValueOrDefault(id)));
    }
}
