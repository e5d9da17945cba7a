using EventPlatform.Kafka.Topics;

namespace EventPlatform.Streaming.Runtime.Checkpoints;

/// <summary>Where and how a <see cref="KafkaCheckpointStore"/> keeps a job's checkpoints.</summary>
public sealed class KafkaCheckpointStoreOptions
{
    /// <summary>The cluster every instance of the job reaches.</summary>
    public required string BootstrapServers { get; init; }

    /// <summary>The job's name: the first part of every record key, so several jobs may share a topic.</summary>
    public required string JobName { get; init; }

    /// <summary>The compacted topic; <c>{job}-checkpoints</c> when null.</summary>
    public string? Topic { get; init; }

    /// <summary>
    /// Creates the topic when missing, compacted (<see cref="AdminTopicProvisioner"/> on a real
    /// cluster, <see cref="EmbeddedTopicProvisioner"/> on the embedded broker). Null: the topic must
    /// exist or the cluster must auto-create it (then it is not compacted unless the broker's default says so).
    /// </summary>
    public ITopicProvisioner? Topics { get; init; }

    /// <summary>Replication of a created topic; 3 so that acks=all means "on three brokers".</summary>
    public short ReplicationFactor { get; init; } = 3;

    /// <summary>How long one save, load or set-aside may take before it fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest checkpoint (serialized bytes) a save accepts; a larger one is refused, never
    /// split. Also the producer's <c>message.max.bytes</c> (plus room for key and headers); the
    /// topic's <c>max.message.bytes</c> (1 MB by default) must allow it too.
    /// </summary>
    public int MaxCheckpointBytes { get; init; } = 900_000;

    /// <summary>Further librdkafka settings for the store's producer and consumer (security, client id...).</summary>
    public IDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
