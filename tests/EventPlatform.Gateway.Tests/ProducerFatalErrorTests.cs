using System.Net;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// A fatal error of a librdkafka idempotent producer (the broker answers its head request with an
/// out-of-order sequence) used to leave the gateway refusing every event until it was restarted:
/// the producer fails every later record. The event producer and the idempotency log's producer
/// are now replaced; publishing goes on, and every event is in Kafka once.
/// </summary>
public sealed class ProducerFatalErrorTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    private static HttpRequestMessage Post(JsonObject e) => new(HttpMethod.Post, "api/v1/events/iot.sensors") { Content = TestEvents.Json(e) };

    /// <summary>Sends until accepted, as a client would after a 503 (at most 20 times).</summary>
    private static async Task<(HttpResponseMessage Answer, int Refused)> PublishAsync(GatewayServer gateway, JsonObject e)
    {
        var refused = 0;
        while (true)
        {
            var answer = await gateway.Client.SendAsync(Post((JsonObject)e.DeepClone()));
            if (answer.StatusCode != HttpStatusCode.ServiceUnavailable || ++refused >= 20)
            {
                return (answer, refused);
            }

            await Task.Delay(100);
        }
    }

    private async Task AssertOneCopyEachAsync(IEnumerable<string> ids)
    {
        var records = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "events.iot.sensors");
        var copies = records.Select(r => (string?)Responses.ParseRecord(r)["event_id"]).ToList();
        foreach (var id in ids)
        {
            Assert.Equal(1, copies.Count(c => c == id));
        }
    }

    [Fact]
    public async Task A_fatal_error_of_the_event_producer_is_survived_and_each_event_is_written_once()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?> { ["Gateway:Idempotency:Enabled"] = "false" });
        var run = Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, 10).Select(i => $"evt_fatal_event_{run}_{i}").ToList();
        Assert.Equal(HttpStatusCode.OK, (await PublishAsync(gateway, TestEvents.Iot($"evt_fatal_warm_{run}"))).Answer.StatusCode);

        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber);
        foreach (var id in ids)
        {
            var (answer, _) = await PublishAsync(gateway, TestEvents.Iot(id));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Equal(1, ((Kafka.Producing.RecoveringProducer<byte[]?, byte[]>)gateway.App.Services.GetRequiredService<IProducer<byte[]?, byte[]>>()).Replacements);
        Assert.Matches(@"(?m)^kafka_producer_replacements_total(\{[^}]*\})? 1$", await gateway.Client.GetStringAsync("metrics"));
        await AssertOneCopyEachAsync(ids);
    }

    [Fact]
    public async Task A_fatal_error_of_the_idempotency_log_producer_is_survived_and_retries_write_each_event_once()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var run = Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, 10).Select(i => $"evt_fatal_claim_{run}_{i}").ToList();
        Assert.Equal(HttpStatusCode.OK, (await PublishAsync(gateway, TestEvents.Iot($"evt_fatal_warm_{run}"))).Answer.StatusCode);

        // The warm event's result is posted to the log after its answer: wait until it is written,
        // or the injected error may hit that record instead of the next claim.
        var store = gateway.App.Services.GetRequiredService<IdempotencyStore>();
        await Eventually.HoldsAsync(() => store.RecordsInFlight == 0, TimeSpan.FromSeconds(30), "The idempotency log did not become quiet.");

        // The next produce request is the first event's claim (the event is written only after it).
        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber);
        var refused = 0;
        foreach (var id in ids)
        {
            var (answer, times) = await PublishAsync(gateway, TestEvents.Iot(id));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            refused += times;
        }

        // And every retry of them is a replay.
        foreach (var id in ids)
        {
            var again = await gateway.Client.SendAsync(Post(TestEvents.Iot(id)));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("true", again.Headers.GetValues(IdempotentPublisher.ReplayedHeader).Single());
        }

        Assert.InRange(refused, 1, 5);
        await AssertOneCopyEachAsync(ids);
    }
}
