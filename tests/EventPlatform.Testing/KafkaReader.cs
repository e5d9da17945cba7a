using Confluent.Kafka;

namespace EventPlatform.Testing;

/// <summary>
/// Reads topics back with a real consumer (assigned partitions, no group), for assertions.
/// To assert a count ("exactly one copy", "30 records"), use <see cref="ReadAllAsync"/> or
/// <see cref="ReadAtLeastAsync"/>: they read every partition to its end, so an extra record is seen.
/// </summary>
public static class KafkaReader
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Every record of <paramref name="topic"/>, in every partition, from the beginning up to each
    /// partition's high watermark as of this call (call it after the writes it should see were
    /// acknowledged). Throws if the ends cannot be reached within <paramref name="timeout"/>, so a
    /// short read never passes for a complete one.
    /// </summary>
    public static Task<List<ConsumeResult<byte[]?, byte[]>>> ReadAllAsync(string bootstrapServers, string topic, TimeSpan? timeout = null) =>
        Task.Run(() =>
        {
            using var consumer = NewConsumer(bootstrapServers);
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            var ends = new Dictionary<int, long>();
            foreach (var partition in Partitions(consumer, topic))
            {
                var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), MetadataTimeout);
                if (watermarks.High > watermarks.Low)
                {
                    ends[partition] = watermarks.High.Value;
                }
            }

            var records = new List<ConsumeResult<byte[]?, byte[]>>();
            consumer.Assign(ends.Keys.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            var open = new HashSet<int>(ends.Keys);
            while (open.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Reading {topic} did not reach the end of partitions {string.Join(", ", open)} in time (read {records.Count} records)");
                }

                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record is null)
                {
                    continue;
                }

                var end = ends[record.Partition.Value];
                if (!record.IsPartitionEOF && record.Offset.Value < end && record.Message is not null)
                {
                    records.Add(record);
                }

                // The end is reached at the last record before it, or at an end-of-partition event
                // past it (records after the call's high watermark are not this read's).
                if (record.Offset.Value + (record.IsPartitionEOF ? 0 : 1) >= end)
                {
                    open.Remove(record.Partition.Value);
                }
            }

            return records;
        });

    /// <summary>
    /// Waits until <paramref name="topic"/> holds at least <paramref name="count"/> records (or the
    /// timeout passes), then returns everything in it, read to the end of every partition: more
    /// than <paramref name="count"/> when there are more, so that an exact-count assertion sees extras.
    /// </summary>
    public static async Task<List<ConsumeResult<byte[]?, byte[]>>> ReadAtLeastAsync(string bootstrapServers, string topic, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var records = await ReadAllAsync(bootstrapServers, topic, left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads every record of <paramref name="topic"/> from the beginning until
    /// <paramref name="until"/> holds for what was read, or <paramref name="timeout"/> passes.
    /// It stops as soon as <paramref name="until"/> holds: for "nothing lost" checks, not for counts.
    /// </summary>
    public static Task<List<ConsumeResult<byte[]?, byte[]>>> ReadAsync(
        string bootstrapServers, string topic, Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]>>, bool> until, TimeSpan timeout) =>
        Task.Run(() =>
        {
            using var consumer = NewConsumer(bootstrapServers);
            consumer.Assign(Partitions(consumer, topic).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));

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

    private static IConsumer<byte[]?, byte[]> NewConsumer(string bootstrapServers) =>
        new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            // ReadAllAsync knows an empty tail of a partition from this event.
            EnablePartitionEof = true,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).Build();

    private static IEnumerable<int> Partitions(IConsumer<byte[]?, byte[]> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return [.. admin.GetMetadata(topic, MetadataTimeout).Topics.Single().Partitions.Select(p => p.PartitionId)];
    }
}
