using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

/// <summary>The tests' Kafka reader can count wrong only if it stops early: these show it does not.</summary>
public class KafkaReaderTests
{
    [Fact]
    public async Task Reading_at_least_n_records_reads_every_partition_to_its_end_and_sees_a_duplicate()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("t", 3, 1);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        foreach (var value in new[] { "m0", "m1", "m2" })
        {
            await producer.ProduceAsync(new TopicPartition("t", 0), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes(value) });
        }

        // A second copy of m0 in the last partition; partition 1 stays empty.
        await producer.ProduceAsync(new TopicPartition("t", 2), new Message<byte[]?, byte[]> { Value = "m0"u8.ToArray() });

        var atLeastThree = await KafkaReader.ReadAtLeastAsync(cluster.BootstrapServers, "t", 3, TimeSpan.FromSeconds(30));
        var all = await KafkaReader.ReadAllAsync(cluster.BootstrapServers, "t");

        foreach (var records in new[] { atLeastThree, all })
        {
            Assert.Equal(4, records.Count);
            Assert.Equal(2, records.Count(r => Encoding.UTF8.GetString(r.Message.Value) == "m0"));
        }
    }

    [Fact]
    public async Task Reading_all_of_an_empty_topic_returns_nothing_at_once()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        cluster.CreateTopic("empty", 2, 1);

        Assert.Empty(await KafkaReader.ReadAllAsync(cluster.BootstrapServers, "empty", TimeSpan.FromSeconds(30)));
    }
}
