using Confluent.Kafka;

namespace EventPlatform.Testing;

/// <summary>Reads topics back with a real consumer (assigned partitions, no group), for assertions.</summary>
public static class KafkaReader
{
    /// <summary>
    /// Reads every record of <paramref name="topic"/> from the beginning until
    /// <paramref name="until"/> holds for what was read, or <paramref name="timeout"/> passes.
    /// </summary>
    public static Task<List<ConsumeResult<byte[]?, byte[]>>> ReadAsync(
        string bootstrapServers, string topic, Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]>>, bool> until, TimeSpan timeout) =>
        Task.Run(() =>
        {
            var config = new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
                EnableAutoCommit = false,
                BrokerAddressFamily = BrokerAddressFamily.V4,
            };
            using var consumer = new ConsumerBuilder<byte[]?, byte[]>(config).Build();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));

            var records = new List<ConsumeResult<byte[]?, byte[]>>();
            var deadline = DateTime.UtcNow + timeout;
            while (!until(records) && DateTime.UtcNow < deadline)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record is { IsPartitionEOF: false, Message: not null })
                {
                    records.Add(record);
                }
            }

            return records;
        });

    /// <summary>Reads until <paramref name="count"/> records were seen (or the timeout), then a little longer to catch extras.</summary>
    public static async Task<List<ConsumeResult<byte[]?, byte[]>>> ReadAtLeastAsync(string bootstrapServers, string topic, int count, TimeSpan timeout)
    {
        var records = await ReadAsync(bootstrapServers, topic, r => r.Count >= count, timeout).ConfigureAwait(false);
        return records;
    }
}
