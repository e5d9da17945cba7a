using System.Text;
using Confluent.Kafka;
using EventPlatform.Core.Routing;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Kafka.Tests;

public sealed class PartitionKeyProperties(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private readonly IProducer<byte[]?, byte[]> _producer = new ProducerBuilder<byte[]?, byte[]>(
        KafkaClientConfig.ForProducer(new KafkaOptions(), "partition-property", kafka.BootstrapServers)).Build();

    // Feature: kafka-event-streaming-platform, Property 4: Partition key consistency
    // For any two events with the same partition key (user_id or device_id), both events should
    // be routed to the same Kafka partition - the partition a Java client would choose too.
    [Property(MaxTest = 100)]
    public async Task Property_4_records_with_the_same_key_land_on_the_same_partition(NonEmptyString key, bool clickstream)
    {
        var topic = clickstream ? "events.clickstream" : "events.iot.sensors";
        var partitions = clickstream ? 24 : 12;
        var keyBytes = Encoding.UTF8.GetBytes(key.Get);

        var first = await _producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = keyBytes, Value = "1"u8.ToArray() });
        var second = await _producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = keyBytes, Value = "2"u8.ToArray() });

        Assert.Equal(first.Partition, second.Partition);
        Assert.Equal(KafkaMurmur2.Partition(keyBytes, partitions), first.Partition.Value);
    }

    public void Dispose() => _producer.Dispose();
}
