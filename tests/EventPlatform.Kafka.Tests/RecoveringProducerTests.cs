using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Kafka.Producing;
using Microsoft.Extensions.Logging.Abstractions;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

/// <summary>
/// A librdkafka idempotent producer that hits a fatal error (here: the broker answers the head of
/// line with an out-of-order sequence, "sequence desynchronization") refuses every later record
/// for good; <see cref="RecoveringProducer"/> replaces it so that the service keeps publishing.
/// </summary>
public class RecoveringProducerTests
{
    private static ProducerBuilder<byte[]?, byte[]> Builder(string bootstrap) =>
        new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfig.ForProducer(new KafkaOptions(), "test", bootstrap)).SetLogHandler((_, _) => { });

    private static Message<byte[]?, byte[]> Record(string value) => new() { Value = Encoding.UTF8.GetBytes(value) };

    [Fact]
    public async Task A_plain_idempotent_producer_stays_broken_after_a_fatal_error()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("t", 1, 3);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Error>();
        using var producer = Builder(cluster.BootstrapServers).SetErrorHandler((_, e) => errors.Enqueue(e)).Build();
        await producer.ProduceAsync("t", Record("warm"));

        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber);
        var first = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync("t", Record("a")));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, first.Error.Code);

        // What the wrapper is for: without it, nothing is ever written again.
        var later = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync("t", Record("b")));
        Assert.Equal(PersistenceStatus.NotPersisted, later.DeliveryResult.Status);
        Assert.Contains(errors, e => e.IsFatal);
    }

    [Fact]
    public async Task After_a_fatal_error_the_next_records_go_to_a_new_producer_and_each_is_written_once()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("t", 3, 3);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Error>();
        using var producer = new RecoveringProducer<byte[]?, byte[]>(() => Builder(cluster.BootstrapServers), NullLogger.Instance, TimeSpan.FromSeconds(1), errors.Enqueue);
        var replaced = new TaskCompletionSource();
        producer.Replaced += _ => replaced.TrySetResult();
        var firstName = producer.Name;
        await producer.ProduceAsync("t", Record("warm"));

        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber);
        var failed = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync(new TopicPartition("t", 0), Record("refused")));
        Assert.Equal(PersistenceStatus.NotPersisted, failed.DeliveryResult.Status);
        await replaced.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Concurrent senders after the replacement: every record is written, once.
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => producer.ProduceAsync("t", Record($"m{i}"))));
        Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        Assert.Equal(1, producer.Replacements);
        Assert.NotEqual(firstName, producer.Name);
        Assert.Contains(errors, e => e.IsFatal);

        var records = await KafkaReader.ReadAllAsync(cluster.BootstrapServers, "t", TimeSpan.FromSeconds(20));
        var values = records.Select(r => Encoding.UTF8.GetString(r.Message.Value)).ToList();
        Assert.Equal(51, values.Count);
        string[] expected = ["warm", .. Enumerable.Range(0, 50).Select(i => $"m{i}")];
        Assert.Equal(expected.Order(StringComparer.Ordinal), values.Order(StringComparer.Ordinal));

        // The handle dependent clients use still answers metadata requests.
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        Assert.Equal(3, admin.GetMetadata("t", TimeSpan.FromSeconds(5)).Topics.Single().Partitions.Count);

        // And after the failed producer is retired, everything still works.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("t", Record("after"))).Status);
    }
}
