using Confluent.Kafka;

namespace EventPlatform.Monitoring.DeadLetters;

/// <summary>
/// Reads a topic from its oldest record to its end as of now, without a consumer group's offsets
/// (nothing is committed: reading the DLQ never changes what another reader sees). Committed
/// transactions only, so a replay that crashed before its commit is invisible.
/// </summary>
public static class DlqTopicReader
{
    /// <summary>Every record of the DLQ <paramref name="topic"/>; records that are not DLQ messages come back unreadable, with the reason.</summary>
    public static List<DlqEntry> ReadDlq(ClientConfig client, string topic, TimeSpan timeout, CancellationToken cancellationToken) =>
        [.. ReadAll(client, topic, timeout, cancellationToken).Select(ToEntry)];

    /// <summary>A record of the DLQ as an entry: its message, or why it has none.</summary>
    public static DlqEntry ToEntry(ConsumeResult<byte[]?, byte[]?> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var message = DlqMessageReader.Read(record.Message.Value, out var problem);
        return new DlqEntry(record.Topic, record.Partition.Value, record.Offset.Value, TimestampOf(record.Message.Timestamp), message, problem);
    }

    /// <summary>Every committed record of <paramref name="topic"/>; none when the topic does not exist.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(ClientConfig client, string topic, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadFrom(client, topic, null, timeout, cancellationToken);

    /// <summary>A record's timestamp; one outside the calendar (a producer may write any 64-bit value) reads as the Unix epoch.</summary>
    private static DateTimeOffset TimestampOf(Timestamp timestamp) =>
        timestamp.UnixTimestampMs is >= -62_135_596_800_000 and <= 253_402_300_799_999
            ? DateTimeOffset.FromUnixTimeMilliseconds(timestamp.UnixTimestampMs)
            : DateTimeOffset.UnixEpoch;

    /// <summary>
    /// The committed records of <paramref name="topic"/> from <paramref name="startOffsets"/> (partition → first offset;
    /// partitions not named are skipped), or of every partition from its start when null.
    /// </summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadFrom(ClientConfig client, string topic, IReadOnlyDictionary<int, long>? startOffsets, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(client))
        {
            GroupId = "eventplatform-dlq-reader",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = IsolationLevel.ReadCommitted,
            AllowAutoCreateTopics = false,
        };
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(client))).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.Code != ErrorCode.NoError || metadata.Partitions.Count == 0)
        {
            return [];
        }

        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        var pending = metadata.Partitions.Where(p => startOffsets is null || startOffsets.ContainsKey(p.PartitionId))
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToHashSet();
        if (pending.Count == 0)
        {
            return [];
        }

        consumer.Assign(pending.Select(tp => new TopicPartitionOffset(tp, startOffsets is null ? Offset.Beginning : new Offset(startOffsets[tp.Partition.Value]))));
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{topic}' was not read to its end within {timeout.TotalSeconds:0} s.");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                pending.Remove(result.TopicPartition);
            }
            else
            {
                records.Add(result);
            }
        }

        consumer.Close();
        return records;
    }
}
