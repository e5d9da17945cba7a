using System.Text;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

/// <summary>
/// What the processor's runner and the sink's task rely on when they resume every partition of a new
/// assignment: librdkafka keeps a partition's pause across a rebalance (edenhill, librdkafka #1849),
/// where Java's consumer forgets it for partitions that move. A partition paused, revoked by an eager
/// rebalance and handed back is still paused, and a consumer whose own bookkeeping starts a new
/// assignment unpaused never reads it again (a processor group stalled this way in a full CI run).
/// </summary>
public sealed class PauseAcrossRebalanceTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>
{
    [Fact]
    public void A_partition_paused_before_a_rebalance_comes_back_paused_until_resumed()
    {
        const string topic = "pause-across-rebalance";
        const string group = "pause-across-rebalance";
        kafka.Cluster.CreateTopic(topic, 2, 1);
        var assignments = 0;
        using var a = Consumer(group, () => assignments++);
        a.Subscribe(topic);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (a.Assignment.Count < 2 && DateTime.UtcNow < deadline)
        {
            a.Consume(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(2, a.Assignment.Count);
        a.Pause(a.Assignment);

        // A second member joins and leaves: two eager rebalances, after which the first has both partitions again.
        using (var b = Consumer(group, () => { }))
        {
            b.Subscribe(topic);
            while ((a.Assignment.Count != 1 || b.Assignment.Count != 1) && DateTime.UtcNow < deadline)
            {
                a.Consume(TimeSpan.FromMilliseconds(50));
                b.Consume(TimeSpan.FromMilliseconds(50));
            }
            Assert.Single(a.Assignment);
            b.Close();
        }
        while (a.Assignment.Count < 2 && DateTime.UtcNow < deadline)
        {
            a.Consume(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(2, a.Assignment.Count);
        Assert.True(assignments >= 3, $"{assignments} assignments");

        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
        {
            for (var partition = 0; partition < 2; partition++)
            {
                producer.Produce(new TopicPartition(topic, partition), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes($"p{partition}") });
            }
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        // The partition that went away and came back is as paused as the one that stayed.
        var readWhilePaused = ConsumeFor(a, TimeSpan.FromSeconds(3));
        Assert.Empty(readWhilePaused);

        a.Resume(a.Assignment);
        var readAfterResume = ConsumeFor(a, TimeSpan.FromSeconds(10), stopAt: 2);
        Assert.Equal(["p0", "p1"], readAfterResume.Order(StringComparer.Ordinal));
    }

    private IConsumer<byte[]?, byte[]> Consumer(string group, Action onAssigned) =>
        new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            GroupId = group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
            SessionTimeoutMs = 6000,
            HeartbeatIntervalMs = 500,
        }).SetLogHandler((_, _) => { }).SetPartitionsAssignedHandler((_, _) => onAssigned()).Build();

    private static List<string> ConsumeFor(IConsumer<byte[]?, byte[]> consumer, TimeSpan duration, int stopAt = int.MaxValue)
    {
        var values = new List<string>();
        var until = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < until && values.Count < stopAt)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false, Message: { } message })
            {
                values.Add(Encoding.UTF8.GetString(message.Value));
            }
        }
        return values;
    }
}
