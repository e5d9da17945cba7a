namespace EventPlatform.Monitoring;

/// <summary>One partition of a topic.</summary>
public readonly record struct PartitionKey(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>A partition's retained range: the first retained offset and the log end (high watermark).</summary>
public readonly record struct PartitionOffsets(long Oldest, long Current)
{
    /// <summary>Messages the partition holds now.</summary>
    public long Retained => Math.Max(0, Current - Oldest);
}

/// <summary>
/// What one poll read from the cluster: raw facts, no arithmetic. <see cref="KafkaLagCalculator"/>
/// turns a sequence of these into the exported figures.
/// </summary>
/// <param name="At">When the poll read the offsets.</param>
/// <param name="Brokers">Brokers in the cluster's metadata.</param>
/// <param name="Topics">Every reported topic and its partition count.</param>
/// <param name="Partitions">Each partition's oldest and current offsets (partitions whose offsets could not be read are absent).</param>
/// <param name="CommittedOffsets">Each consumer group's committed offsets (partitions it never committed are absent).</param>
/// <param name="RecordTimestamps">The timestamp of the first record at or after an offset, for the offsets the lags need.</param>
/// <param name="NothingToRead">
/// Offsets below the log end with no record to read at or after them: only transaction markers
/// (a consumer of a transactional topic that is caught up still "lags" by its last commit marker).
/// </param>
public sealed record ClusterReading(
    DateTimeOffset At,
    int Brokers,
    IReadOnlyDictionary<string, int> Topics,
    IReadOnlyDictionary<PartitionKey, PartitionOffsets> Partitions,
    IReadOnlyDictionary<string, IReadOnlyDictionary<PartitionKey, long>> CommittedOffsets,
    IReadOnlyDictionary<(PartitionKey Partition, long Offset), DateTimeOffset> RecordTimestamps,
    IReadOnlySet<(PartitionKey Partition, long Offset)>? NothingToRead = null)
{
    /// <summary>
    /// The offset whose record is the oldest one a group has not consumed on a partition, or null
    /// when it is caught up: its committed offset, or the oldest retained one if retention has
    /// already dropped the records from there.
    /// </summary>
    public static long? OldestUnconsumedOffset(long committed, PartitionOffsets offsets) =>
        committed >= offsets.Current ? null : Math.Max(committed, offsets.Oldest);
}
