using System.Text;
using Confluent.Kafka;
using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Kafka.Topics;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

public class EmbeddedKafkaClusterTests
{
    private static IProducer<byte[]?, byte[]> SeedProducer(string bootstrap, TimeSpan? messageTimeout = null)
    {
        var options = new KafkaOptions();
        if (messageTimeout is { } timeout)
        {
            options.Producer.MessageTimeout = timeout;
        }

        return new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfig.ForProducer(options, "test", bootstrap)).SetLogHandler((_, _) => { }).Build();
    }

    [Fact]
    public async Task Clients_bootstrap_through_the_stable_address_and_follow_the_brokers()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = 0 });
        Assert.StartsWith("127.0.0.1:", cluster.BootstrapServers, StringComparison.Ordinal);
        Assert.Equal(3, cluster.BrokerBootstrapServers.Split(',').Length);
        Assert.True(cluster.CreateTopic("t", 4, 3));

        using var producer = SeedProducer(cluster.BootstrapServers);
        var result = await producer.ProduceAsync("t", new Message<byte[]?, byte[]> { Key = "21"u8.ToArray(), Value = "v"u8.ToArray() });

        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Equal(KafkaMurmur2.Partition("21"u8, 4), result.Partition.Value);
    }

    [Fact]
    public async Task The_bootstrap_address_relays_at_most_its_limit_of_connections_and_serves_clients_after_a_flood()
    {
        const int limit = 20, flood = 100;
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = 0, MaxBootstrapConnections = limit });
        var port = int.Parse(cluster.BootstrapServers.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        using (var connections = await ConnectionFlood.OpenAsync(port, flood))
        {
            // Connections past the limit are closed at once: they read end-of-stream.
            Assert.InRange(await connections.OpenAfterServerClosesAsync(limit), 1, limit);
        }

        Assert.True(cluster.CreateTopic("after-flood", 1, 1));
        using var producer = SeedProducer(cluster.BootstrapServers);
        var result = await producer.ProduceAsync("after-flood", new Message<byte[]?, byte[]> { Value = "v"u8.ToArray() });
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }

    [Fact]
    public async Task The_topic_plan_is_applied_once_and_left_alone_after()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        var provisioner = new EmbeddedTopicProvisioner(cluster);

        var first = await provisioner.ApplyAsync(TopicPlan.Seed, CancellationToken.None);
        var second = await provisioner.ApplyAsync(TopicPlan.Seed, CancellationToken.None);

        Assert.All(first, r => Assert.Equal(TopicProvisionOutcome.Created, r.Outcome));
        Assert.All(second, r => Assert.Equal(TopicProvisionOutcome.AlreadyExisted, r.Outcome));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var topic in TopicPlan.Seed.Topics)
        {
            var actual = metadata.Topics.Single(t => t.Topic == topic.Name);
            Assert.Equal(topic.Partitions, actual.Partitions.Count);
            Assert.All(actual.Partitions, p => Assert.Equal(3, p.Replicas.Length));
        }
    }

    [Fact]
    public async Task Brokers_taken_down_refuse_writes_as_not_persisted_and_accept_them_when_back()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("t", 2, 3);
        using var producer = SeedProducer(cluster.BootstrapServers, TimeSpan.FromSeconds(1));
        // The first write also bootstraps and initialises the idempotent producer: on a busy
        // machine that may take longer than the short timeout this test needs for the outage.
        await ProduceOnceReconnectedAsync(producer, "t", "before"u8.ToArray(), TimeSpan.FromSeconds(20));

        cluster.SetAllBrokersDown();
        var down = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() =>
            producer.ProduceAsync("t", new Message<byte[]?, byte[]> { Value = "during"u8.ToArray() }));
        Assert.Equal(PersistenceStatus.NotPersisted, down.DeliveryResult.Status);

        cluster.SetAllBrokersUp();
        var after = await ProduceOnceReconnectedAsync(producer, "t", "after"u8.ToArray(), TimeSpan.FromSeconds(20));
        Assert.Equal(PersistenceStatus.Persisted, after.Status);

        var records = await KafkaReader.ReadAtLeastAsync(cluster.BootstrapServers, "t", 2, TimeSpan.FromSeconds(20));
        Assert.Equal(["after", "before"], records.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Order());
    }

    /// <summary>Clients reconnect with backoff: keep trying a not-persisted write until it lands.</summary>
    private static async Task<DeliveryResult<byte[]?, byte[]>> ProduceOnceReconnectedAsync(IProducer<byte[]?, byte[]> producer, string topic, byte[] value, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                return await producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Value = value });
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.DeliveryResult.Status == PersistenceStatus.NotPersisted && DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task Injected_produce_errors_are_retried_by_the_idempotent_producer_without_duplicates()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("t", 1, 3);
        using var producer = SeedProducer(cluster.BootstrapServers);
        await producer.ProduceAsync("t", new Message<byte[]?, byte[]> { Value = "warm"u8.ToArray() });

        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas);
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            producer.ProduceAsync("t", new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes($"m{i}") })));

        Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        var records = await KafkaReader.ReadAtLeastAsync(cluster.BootstrapServers, "t", 21, TimeSpan.FromSeconds(20));
        Assert.Equal(21, records.Count);
        Assert.Equal(21, records.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct().Count());
    }

    [Fact]
    public void A_taken_bootstrap_port_fails_with_a_clear_message()
    {
        using var first = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = 0 });
        var port = int.Parse(first.BootstrapServers.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

        var ex = Assert.Throws<InvalidOperationException>(() => EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = port }));
        Assert.Contains("already in use", ex.Message, StringComparison.Ordinal);
    }
}
