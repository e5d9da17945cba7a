using Confluent.Kafka;

namespace EventPlatform.Testing;

/// <summary>
/// Everything a topic holds, read with a real consumer to the end of every partition (the high
/// watermarks taken when reading starts), so that a test counting copies sees every copy.
/// </summary>
public static class TopicContents
{
    /// <summary>Reads every record of every partition of <paramref name="topic"/> up to the partitions' ends now.</summary>
    /// <exception cref="TimeoutException">The ends were not reached within <paramref name="timeout"/>.</exception>
    public static Task<List<ConsumeResult<byte[]?, byte[]?>>> ReadAllAsync(string bootstrapServers, string topic, TimeSpan timeout) =>
        Task.Run(() =>
        {
            var config = new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = "test-contents-" + Guid.NewGuid().ToString("N"),
                EnableAutoCommit = false,
                EnablePartitionEof = true,
                BrokerAddressFamily = BrokerAddressFamily.V4,
            };
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId).ToList();
            var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
            var open = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
            consumer.Assign(open.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));

            var records = new List<ConsumeResult<byte[]?, byte[]?>>();
            var deadline = DateTime.UtcNow + timeout;
            while (open.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Reading {topic} to its end took longer than {timeout}; partitions not finished: {string.Join(", ", open)}.");
                }

                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record is null)
                {
                    continue;
                }

                if (!record.IsPartitionEOF && record.Offset.Value < ends[record.Partition.Value])
                {
                    records.Add(record);
                }

                if (consumer.Position(record.TopicPartition).Value >= ends[record.Partition.Value])
                {
                    open.Remove(record.Partition.Value);
                }
            }

            return records;
        });
}
