using System.Text;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

/// <summary>
/// What a consumer sees of a transactional partition on the embedded broker. The processor's
/// back-pressure measures how far its window stage is behind from these offsets.
/// </summary>
public sealed class TransactionMarkerTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>
{
    [Fact]
    public void A_committed_transaction_leaves_a_marker_after_its_records_that_the_consumer_position_passes()
    {
        const string topic = "txn-markers";
        kafka.Cluster.CreateTopic(topic, 1, 1);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            TransactionalId = "txn-markers",
        }).Build())
        {
            producer.InitTransactions(TimeSpan.FromSeconds(30));
            for (var transaction = 0; transaction < 2; transaction++)
            {
                producer.BeginTransaction();
                for (var i = 0; i < 3; i++)
                {
                    producer.Produce(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes($"t{transaction}-{i}") });
                }
                producer.CommitTransaction(TimeSpan.FromSeconds(30));
            }
        }

        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            GroupId = "txn-markers",
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        var partition = new TopicPartition(topic, 0);
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var offsets = new List<long>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (offsets.Count < 6 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } result)
            {
                offsets.Add(result.Offset.Value);
            }
        }
        // Poll on until the consumer has seen the end.
        for (var i = 0; i < 10; i++)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
        var high = consumer.GetWatermarkOffsets(partition).High;
        var position = consumer.Position(partition);
        Assert.Equal(new long[] { 0, 1, 2, 4, 5, 6 }, offsets);
        Assert.Equal(8, high.Value);
        Assert.Equal(8, position.Value);
    }
}
