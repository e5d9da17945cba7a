using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Monitoring.Tests;

/// <summary>The cluster reader and the calculator against the embedded broker: lags computed from real committed offsets, watermarks and record timestamps.</summary>
[Collection(MonitorCollection.Name)]
public sealed class KafkaClusterReaderTests(EmbeddedKafkaFixture kafka)
{
    private KafkaClusterReader Reader(params string[] groups) => new(
        new KafkaOptions { BootstrapServers = kafka.BootstrapServers },
        new MonitorOptions { ConsumerGroups = [.. groups], DiscoverConsumerGroups = false, RequestTimeout = TimeSpan.FromSeconds(5) },
        TimeProvider.System,
        NullLogger<KafkaClusterReader>.Instance);

    [Fact]
    public async Task Lag_is_log_end_minus_committed_offset_and_its_age_is_that_of_the_record_at_the_committed_offset()
    {
        var topic = "lag-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 2, 1);
        var first = DateTimeOffset.UtcNow.AddHours(-2);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 0, 10, first);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 1, 3, first);
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 4);
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 1, 3);
        using var reader = Reader(group);

        var reading = await reader.ReadAsync(CancellationToken.None);
        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(reading);

        Assert.True(snapshot.Brokers >= 1);
        Assert.Equal(2, snapshot.Topics.Single(t => t.Topic == topic).Partitions);
        var lagging = snapshot.GroupPartitions.Single(g => g.Group == group && g.Partition == new PartitionKey(topic, 0));
        Assert.Equal(4, lagging.CommittedOffset);
        Assert.Equal(10 - 4, lagging.Lag);
        // The oldest unconsumed record is offset 4, written with timestamp first + 4 s (millisecond precision in Kafka).
        var expected = (reading.At - first.AddSeconds(4)).TotalMilliseconds / 1000;
        // Within 10 ms: the reading's clock and the lag's may be read a fraction of a millisecond apart.
        Assert.InRange(lagging.LagSeconds!.Value, expected - 0.01, expected + 0.01);
        var caughtUp = snapshot.GroupPartitions.Single(g => g.Group == group && g.Partition == new PartitionKey(topic, 1));
        Assert.Equal(0, caughtUp.Lag);
        Assert.Equal(0, caughtUp.LagSeconds);
        Assert.Equal(6, snapshot.Groups.Single(g => g.Group == group).Lag);
    }

    [Fact]
    public async Task A_group_that_never_committed_on_a_partition_has_no_series_there()
    {
        var topic = "uncommitted-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 2, 1);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 0, 2, DateTimeOffset.UtcNow);
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 1);
        using var reader = Reader(group);

        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(await reader.ReadAsync(CancellationToken.None));

        var partitions = snapshot.GroupPartitions.Where(g => g.Group == group).Select(g => g.Partition.Partition).ToList();
        Assert.Equal([0], partitions);
    }

    [Fact]
    public async Task Consumption_between_two_polls_gives_a_finite_catch_up_estimate()
    {
        var topic = "catchup-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 1, 1);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 0, 100, DateTimeOffset.UtcNow.AddMinutes(-5));
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 10);
        using var reader = Reader(group);
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq");
        var before = calculator.Add(await reader.ReadAsync(CancellationToken.None));
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 40);

        var after = calculator.Add(await reader.ReadAsync(CancellationToken.None));

        Assert.Null(before.Groups.Single(g => g.Group == group).CatchUpSeconds);
        var figures = after.Groups.Single(g => g.Group == group);
        Assert.Equal(60, figures.Lag);
        Assert.True(figures.ConsumedPerSecond > 0);
        // 30 messages consumed in the time between the readings, nothing produced: 60 left take twice that time.
        Assert.Equal(60 / figures.ConsumedPerSecond!.Value, figures.CatchUpSeconds!.Value, precision: 6);
    }

    [Fact]
    public async Task Dlq_depth_is_the_messages_the_dead_letter_topic_retains()
    {
        var dlq = "dlq-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(dlq, 3, 1);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, dlq, 0, 2, DateTimeOffset.UtcNow);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, dlq, 2, 5, DateTimeOffset.UtcNow);
        using var reader = Reader();

        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), dlq).Add(await reader.ReadAsync(CancellationToken.None));

        Assert.Equal(new DlqFigures(dlq, 7), snapshot.Dlq);
        Assert.Equal(5, snapshot.Partitions.Single(p => p.Partition == new PartitionKey(dlq, 2)).Offsets.Current);
        Assert.Equal(0, snapshot.Partitions.Single(p => p.Partition == new PartitionKey(dlq, 2)).Offsets.Oldest);
    }

    [Fact]
    public async Task Group_discovery_on_the_embedded_broker_reports_the_configured_groups_and_keeps_the_broker_alive()
    {
        var topic = "discovery-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 1, 1);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 0, 3, DateTimeOffset.UtcNow);
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 1);
        using var reader = new KafkaClusterReader(
            new KafkaOptions { BootstrapServers = kafka.BootstrapServers },
            new MonitorOptions { ConsumerGroups = [group], DiscoverConsumerGroups = true },
            TimeProvider.System,
            NullLogger<KafkaClusterReader>.Instance);

        var first = await reader.ReadAsync(CancellationToken.None);
        var second = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(1, first.CommittedOffsets[group][new PartitionKey(topic, 0)]);
        Assert.Equal(1, second.CommittedOffsets[group][new PartitionKey(topic, 0)]);
    }

    [Fact]
    public async Task A_group_caught_up_on_a_transactional_topic_lags_by_the_commit_marker_in_messages_but_zero_seconds()
    {
        var topic = "txn-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 1, 1);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, TransactionalId = "txn-" + group })
            .SetLogHandler((_, _) => { }).Build())
        {
            producer.InitTransactions(TimeSpan.FromSeconds(10));
            producer.BeginTransaction();
            for (var i = 0; i < 3; i++)
            {
                producer.Produce(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Value = [(byte)i], Timestamp = new Timestamp(DateTimeOffset.UtcNow.AddHours(-1)) });
            }

            producer.CommitTransaction(TimeSpan.FromSeconds(10));
        }

        // A consumer that read the 3 records commits offset 3; the commit marker is offset 3, the log end 4.
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 3);
        using var reader = Reader(group);

        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(await reader.ReadAsync(CancellationToken.None));

        var figures = snapshot.GroupPartitions.Single(g => g.Group == group);
        Assert.Equal(1, figures.Lag);
        Assert.Equal(0, figures.LagSeconds);
    }
}
