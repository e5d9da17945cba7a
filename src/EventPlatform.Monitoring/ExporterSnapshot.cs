namespace EventPlatform.Monitoring;

/// <summary>
/// The figures the exporter serves, computed once per poll; immutable, so a scrape reads one
/// consistent set without waiting for Kafka.
/// </summary>
public sealed record ExporterSnapshot(
    DateTimeOffset At,
    int Brokers,
    IReadOnlyList<TopicFigures> Topics,
    IReadOnlyList<PartitionFigures> Partitions,
    IReadOnlyList<GroupPartitionFigures> GroupPartitions,
    IReadOnlyList<GroupFigures> Groups,
    DlqFigures? Dlq)
{
    /// <summary>The pipeline's stages (<see cref="MonitorOptions.PipelineStages"/>) and how far behind each is.</summary>
    public IReadOnlyList<StageFigures> Stages { get; init; } = [];

    /// <summary>What is served while the cluster does not answer: no brokers and nothing else (as kafka_exporter, whose scrape then fails).</summary>
    public static ExporterSnapshot Unreachable(DateTimeOffset at) => new(at, 0, [], [], [], [], null);
}

/// <param name="MessagesInPerSecond">Growth of the topic's log end over the rate window; null until there are two readings.</param>
public sealed record TopicFigures(string Topic, int Partitions, double? MessagesInPerSecond);

public sealed record PartitionFigures(PartitionKey Partition, PartitionOffsets Offsets);

/// <param name="LagSeconds">Now minus the timestamp of the oldest unconsumed record; 0 when caught up; null when that record's timestamp is unknown.</param>
public sealed record GroupPartitionFigures(string Group, PartitionKey Partition, long CommittedOffset, long Lag, double? LagSeconds);

/// <param name="ConsumedPerSecond">Committed offsets' growth over the rate window on the group's partitions; null until there are two readings.</param>
/// <param name="CatchUpSeconds">Time until the lag reaches zero at the recent rates; +Inf when it does not shrink; null until there are two readings.</param>
public sealed record GroupFigures(string Group, long Lag, double? ConsumedPerSecond, double? CatchUpSeconds);

/// <param name="Messages">Messages the dead letter topic retains (sum over partitions of log end minus oldest offset).</param>
public sealed record DlqFigures(string Topic, long Messages);

/// <summary>One stage of the pipeline (a consumer group that moves events on) and how far behind it is.</summary>
/// <param name="Stage">The stage's name (<c>processor</c>, <c>sink</c>).</param>
/// <param name="LagSeconds">The age of the oldest record the stage has not consumed, over its partitions; 0 when caught up; null when unknown.</param>
/// <param name="Lag">Messages the stage has not consumed.</param>
/// <param name="CatchUpSeconds">Time until the stage is caught up at the recent rates (+Inf when not shrinking); null until there are two readings.</param>
public sealed record StageFigures(string Stage, string Group, double? LagSeconds, long Lag, double? CatchUpSeconds);
