using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Kafka.Configuration;

/// <summary>
/// Where Kafka is and how the platform talks to it. Bound from the <c>Kafka</c> section; the
/// seed's environment variables (<c>KAFKA_BOOTSTRAP_SERVERS</c>, <c>KAFKA_SECURITY_PROTOCOL</c>,
/// <c>KAFKA_SASL_MECHANISM</c>, ...) map onto it.
/// </summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated bootstrap servers. Empty means: start the embedded broker.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>librdkafka <c>security.protocol</c>: plaintext, ssl, sasl_plaintext, sasl_ssl.</summary>
    public string? SecurityProtocol { get; set; }

    /// <summary>librdkafka <c>sasl.mechanism</c>, e.g. SCRAM-SHA-512 (the seed's MSK setting).</summary>
    public string? SaslMechanism { get; set; }

    public string? SaslUsername { get; set; }

    public string? SaslPassword { get; set; }

    [Required]
    public ProducerSettings Producer { get; set; } = new();

    [Required]
    public ConsumerSettings Consumer { get; set; } = new();

    /// <summary>
    /// Replaces every topic's replication factor of the plan; for clusters with fewer brokers
    /// than the seed's 3. Null keeps the plan's values.
    /// </summary>
    [Range(1, 32)]
    public short? ReplicationFactor { get; set; }

    /// <summary>Any other librdkafka property, passed through to every client as it is.</summary>
    public Dictionary<string, string> Extra { get; set; } = [];

    /// <summary>
    /// Longest wait between reconnection attempts to a broker (librdkafka's default is 10 s):
    /// after an outage, ingestion resumes within about this long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ReconnectBackoffMax { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long admin calls (metadata, topic creation) may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan AdminTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a service that starts waits for a topic it needs to exist with a leader for every
    /// partition: after creating it, while the broker auto-creates it, or while an operator creates
    /// it (when this client may not). Past it the service does not start, and says why.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan TopicReadyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a state topic (the registry's schemas, the idempotency keys) may stay unknown, or
    /// authentication keep failing, before the service reading it stops instead of waiting on.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StateTopicErrorGrace { get; set; } = TimeSpan.FromSeconds(30);

    public bool UsesEmbeddedBroker => string.IsNullOrWhiteSpace(BootstrapServers);
}

/// <summary>The seed's producer settings (design.md, "Producer Configuration").</summary>
public sealed class ProducerSettings
{
    /// <summary>acks=all: a write is acknowledged once every in-sync replica has it.</summary>
    [Required]
    public string Acks { get; set; } = "all";

    [Required]
    public string CompressionType { get; set; } = "snappy";

    [Range(1, 5)]
    public int MaxInFlightRequestsPerConnection { get; set; } = 5;

    /// <summary>Idempotence: the broker drops a retried batch it already has, so no duplicates, in order.</summary>
    public bool EnableIdempotence { get; set; } = true;

    [Range(0, 5000)]
    public int LingerMs { get; set; } = 10;

    [Range(1, 1_000_000_000)]
    public int BatchSize { get; set; } = 16384;

    /// <summary>
    /// How long librdkafka keeps trying to deliver one record (its own retries, which the
    /// idempotent producer makes duplicate-free) before reporting failure. One gateway attempt.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// librdkafka's partitioner; murmur2_random puts a key where the Java client would.
    /// </summary>
    [Required]
    public string Partitioner { get; set; } = "murmur2_random";

    /// <summary>How often librdkafka reports statistics (for metrics); 0 turns them off.</summary>
    [Range(0, 3_600_000)]
    public int StatisticsIntervalMs { get; set; } = 5000;
}

/// <summary>The seed's consumer settings (design.md, "Consumer Configuration").</summary>
public sealed class ConsumerSettings
{
    public bool EnableAutoCommit { get; set; }

    [Required]
    public string IsolationLevel { get; set; } = "read_committed";

    /// <summary>The seed's max.poll.records: how many records a consumer takes per batch.</summary>
    [Range(1, 100_000)]
    public int MaxPollRecords { get; set; } = 500;

    [Range(1, 100_000_000)]
    public int FetchMinBytes { get; set; } = 1024;

    /// <summary>How long a fetch may wait for fetch.min.bytes; librdkafka's fetch.wait.max.ms.</summary>
    [Range(0, 60_000)]
    public int FetchWaitMaxMs { get; set; } = 100;

    /// <summary>
    /// librdkafka's fetch.queue.backoff.ms: how long a partition waits before fetching again once the
    /// consumer's local queue is full (64 MB by default). librdkafka's 1000 ms let a consumer catching
    /// up drain the queue and then wait with nothing to read: the processor read nothing for 0.2-0.6 s
    /// in every 1.2-1.7 s of a 1,000,000-event catch-up (README, processor).
    /// </summary>
    [Range(0, 300_000)]
    public int FetchQueueBackoffMs { get; set; } = 10;
}
