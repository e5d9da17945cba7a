using EventPlatform.Kafka.Topics;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// Runs a job with keyed windows in two stages so that several instances in one consumer group
/// share the work (see the Streaming README, "Scale-out"). Every instance of a job must use the
/// same settings.
/// </summary>
public sealed class ScaleOutOptions
{
    /// <summary>
    /// Partitions of the repartition topic <c>{job}-repartition</c>: the most instances the window
    /// stage can spread over. Null: the topic's count if it exists, else the largest partition
    /// count of the source topics. A topic that exists with another count than a configured one is
    /// refused, because keyed state is split by key hash modulo this count.
    /// </summary>
    public int? RepartitionPartitions { get; init; }

    /// <summary>The repartition topic's replication factor when the runner creates it (use 3 on a production cluster).</summary>
    public short ReplicationFactor { get; init; } = 1;

    /// <summary>Creates the repartition topic; null: the Admin API (with the fallbacks of <see cref="AdminTopicProvisioner"/>).</summary>
    public ITopicProvisioner? Topics { get; init; }

    /// <summary>
    /// How often the routing stage tells every repartition partition how far event time has come
    /// in each source partition it read since the last time: the window stage's watermark follows
    /// the sources with this delay.
    /// </summary>
    public TimeSpan WatermarkInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The routing stage writes the source records bound for one repartition partition as one batch
    /// record of up to this many bytes (a larger source record goes alone): the per-record cost of the
    /// client, the broker and the window stage's consumer is paid per batch. Keep it below the
    /// topic's <c>max.message.bytes</c> (1 MB by default) and under 85,000 bytes, so that each batch's
    /// array is an ordinary, short-lived allocation.
    /// </summary>
    public int RouteBatchBytes { get; init; } = 60 * 1024;

    /// <summary>
    /// How long routed records may wait in a batch that is not full; batches are also written whenever
    /// the consumer finds nothing to read, before every watermark broadcast and every checkpoint.
    /// </summary>
    public TimeSpan RouteBatchLinger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Back-pressure: while a repartition partition this instance reads is more than this many records
    /// behind its end (the end its last fetch saw, or its own writes' acknowledged offset if further), the
    /// instance pauses its source partitions, and resumes them at a quarter of it (or when a poll finds
    /// nothing to read). The window stage then cannot fall further behind the routing stage than a
    /// broker keeps: the embedded broker drops a partition's oldest records past about 5 MB, and a reader
    /// behind that would be reset past records it never read. The default, 64 records of at most <see cref="RouteBatchBytes"/> (~3.8 MB before
    /// compression), stays under it unless single source records are larger than a batch. Each instance
    /// sees only its own window tasks' lag, so several instances are protected only partly.
    /// </summary>
    public int MaxRepartitionLag { get; init; } = 64;

    /// <summary>
    /// While this instance owns every source partition and every repartition partition (one instance
    /// in the group, the default deployment), and has read everything routed so far, stage 1 hands
    /// keyed elements straight to the window tasks instead of writing them to the repartition topic
    /// and reading them back: the hop costs about half of the throughput (README, processor). Results
    /// and checkpoints are the same; when a second instance joins, the rebalance checkpoints and the
    /// hop resumes. False: always through the topic.
    /// </summary>
    public bool LocalWhenAlone { get; init; } = true;
}
