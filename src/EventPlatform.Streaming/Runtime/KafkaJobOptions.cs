using EventPlatform.Kafka.Configuration;
using EventPlatform.Streaming.Time;

namespace EventPlatform.Streaming.Runtime;

/// <summary>How a <see cref="KafkaJobRunner"/> reaches Kafka and how often it checkpoints.</summary>
public sealed class KafkaJobOptions
{
    /// <summary>The cluster's bootstrap servers.</summary>
    public required string BootstrapServers { get; init; }

    /// <summary>Client settings (producer and consumer sections); acks=all and idempotence are forced on.</summary>
    public KafkaOptions Kafka { get; init; } = new();

    /// <summary>
    /// The job producer's <c>linger.ms</c>, in place of <see cref="KafkaOptions"/>' producer one: 100 ms
    /// by default, as Kafka Streams sets for its producers. Windowed results do not need the 10 ms a
    /// request-answering gateway does, and at 10 ms librdkafka's transactional producer thread woke
    /// thousands of times a second under steady traffic (measured: a third of a core at 3,400 events/s).
    /// </summary>
    public TimeSpan ProducerLinger { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The consumer group; by default the job's name.</summary>
    public string? GroupId { get; init; }

    /// <summary>How often a checkpoint is taken (and on a clean stop). Output since the last one is replayed after a crash.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Event-time settings of the job's watermark tracker.</summary>
    public WatermarkOptions Watermarks { get; init; } = new();

    /// <summary>
    /// The cluster identity to tag checkpoints with when the cluster reports no id in its metadata
    /// (or the client cannot read it). Normally null: the id comes from the cluster.
    /// </summary>
    public string? ClusterIdentity { get; init; }

    /// <summary>Where a partition without a checkpointed offset starts: its beginning (default) or its end.</summary>
    public bool StartFromBeginning { get; init; } = true;

    /// <summary>How long a checkpoint may wait for the producer's outstanding records to be acknowledged.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Null (default): one instance runs the whole job. Set: a job with keyed windows runs in two
    /// stages joined by a repartition topic, so that several instances in one consumer group share
    /// it; its checkpoint store must be an <see cref="Checkpoints.IPartitionedCheckpointStore"/>.
    /// Jobs without windows run in one stage either way.
    /// </summary>
    public ScaleOutOptions? ScaleOut { get; init; }

    /// <summary>
    /// <see cref="Runtime.ProcessingGuarantee.ExactlyOnce"/> (default): outputs and input offsets commit
    /// in one Kafka transaction per checkpoint. <see cref="Runtime.ProcessingGuarantee.AtLeastOnce"/>: an
    /// idempotent producer flushed at each checkpoint.
    /// </summary>
    public ProcessingGuarantee ProcessingGuarantee { get; init; } = ProcessingGuarantee.ExactlyOnce;

    /// <summary>
    /// A name for this instance that stays the same across its restarts (like <c>group.instance.id</c>),
    /// used in the transactional id when scaled out: <c>{group}-txn-{InstanceId}</c>. A restarted
    /// instance then fences its own zombie and aborts the transaction it left open. Null: a random id
    /// per start (zombies are then fenced by the group generation sent with the offsets, as in Kafka
    /// Streams' EOS v2). Unused by a single instance, whose id is <c>{group}-txn</c>.
    /// </summary>
    public string? InstanceId { get; init; }

    /// <summary>How long to wait for the cluster id at start.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The job thread's nice value on Linux, 0 to 19 (0: the process's priority; see <see cref="Kafka.Consuming.ThreadNiceness"/>).</summary>
    public int ThreadNiceness { get; init; }
}
