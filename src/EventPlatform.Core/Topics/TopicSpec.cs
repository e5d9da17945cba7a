namespace EventPlatform.Core.Topics;

/// <summary>What a topic is for; decides who may write it.</summary>
public enum TopicRole
{
    /// <summary>Raw events from the gateway, one topic per event type.</summary>
    Ingest,

    /// <summary>Window results from the stream processor.</summary>
    Aggregated,

    /// <summary>Messages that failed processing after every retry.</summary>
    DeadLetter,

    /// <summary>The platform's own state (schemas, idempotency keys, checkpoints).</summary>
    Internal,
}

/// <summary>One topic of the plan.</summary>
/// <param name="Name">Full Kafka topic name, e.g. <c>events.iot.sensors</c>.</param>
/// <param name="Partitions">Partition count.</param>
/// <param name="ReplicationFactor">Replication factor (3 in the seed).</param>
/// <param name="Role">What the topic carries.</param>
/// <param name="EventType">For an ingest topic, the event type routed to it.</param>
public sealed record TopicSpec(string Name, int Partitions, short ReplicationFactor, TopicRole Role, string? EventType = null)
{
    /// <summary>Kafka's own limit on topic names.</summary>
    public const int MaxNameLength = 249;

    /// <summary>
    /// Topic-level configs set when the topic is created (<c>cleanup.policy</c>, <c>retention.ms</c>,
    /// ...); see <see cref="TopicConfigs"/>. Clusters that refuse topic configs get the topic without them.
    /// </summary>
    public IReadOnlyDictionary<string, string> Configs { get; init; } = TopicConfigs.None;
}
