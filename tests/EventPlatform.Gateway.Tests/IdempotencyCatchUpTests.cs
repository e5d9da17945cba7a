using System.Diagnostics;
using Confluent.Kafka;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventPlatform.Gateway.Tests;

/// <summary>A gateway starting on a large idempotency topic reads it all, with no fixed deadline.</summary>
public sealed class IdempotencyCatchUpTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "_eventplatform.idempotency";
    private const int Partitions = 12;
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task A_gateway_starts_on_300000_entries_and_remembers_every_key()
    {
        _kafka.Cluster.CreateTopic(Topic, Partitions, 1);
        const int keys = 150_000;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var byPartition = Enumerable.Range(0, Partitions).Select(_ => new List<IdempotencyEntry>()).ToArray();
        for (var i = 0; i < keys; i++)
        {
            var key = IdempotencyKeys.Key("catch-up", $"key-{i}");
            var claim = IdempotencyKeys.NewClaimId();
            var entries = byPartition[(int)((ulong)(key >> 64) % Partitions)];
            entries.Add(IdempotencyEntry.Claim(key, claim, now, 1, "events.iot.sensors"));
            entries.Add(IdempotencyEntry.Done(key, claim, now, "events.iot.sensors", 0, i, now));
        }

        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4, LingerMs = 5 }).Build())
        {
            for (var p = 0; p < Partitions; p++)
            {
                // 20 entries a record: thousands of records, as a busy log holds.
                foreach (var chunk in byPartition[p].Chunk(20))
                {
                    producer.Produce(new TopicPartition(Topic, p), new Message<byte[]?, byte[]> { Value = IdempotencyCodec.Encode(chunk) });
                }
            }

            producer.Flush(TimeSpan.FromSeconds(60));
        }

        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var elapsed = clock.Elapsed;
        output.WriteLine($"Started on {keys * 2} entries ({keys * 2 / 20} records) in {elapsed.TotalSeconds:0.00} s");

        var store = gateway.App.Services.GetRequiredService<IdempotencyStore>();
        Assert.All(new[] { 0, 1, keys / 2, keys - 1 }, i =>
        {
            var view = store.Lookup(IdempotencyKeys.Key("catch-up", $"key-{i}"));
            Assert.Equal(KeyStatus.Done, view.Status);
            Assert.Equal(i, view.Result.Offset);
        });
    }
}
