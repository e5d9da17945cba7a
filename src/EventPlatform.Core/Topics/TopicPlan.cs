using EventPlatform.Core.Events;

namespace EventPlatform.Core.Topics;

/// <summary>
/// The topics the platform needs, defined once. The same plan is applied to the embedded
/// broker (mock API) and to a real cluster (AdminClient), so both have the same layout.
/// </summary>
public sealed class TopicPlan
{
    /// <summary>Every platform topic name starts with this prefix; the API accepts names without it.</summary>
    public const string Prefix = "events.";

    public const string Aggregated = "events.aggregated";
    public const string DeadLetter = "events.dlq";

    private readonly Dictionary<string, TopicSpec> _byName;
    private readonly Dictionary<string, TopicSpec> _byEventType;

    public TopicPlan(IEnumerable<TopicSpec> topics)
    {
        Topics = [.. topics];
        _byName = Topics.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _byEventType = Topics.Where(t => t.EventType is not null).ToDictionary(t => t.EventType!, StringComparer.Ordinal);
    }

    public IReadOnlyList<TopicSpec> Topics { get; }

    /// <summary>The seed's five topics (design.md, "Topic Design").</summary>
    public static TopicPlan Seed { get; } = new(
    [
        new("events.iot.sensors", 12, 3, TopicRole.Ingest, EventTypes.IotSensor),
        new("events.clickstream", 24, 3, TopicRole.Ingest, EventTypes.Clickstream),
        new("events.transactions", 12, 3, TopicRole.Ingest, EventTypes.Transaction),
        new(Aggregated, 12, 3, TopicRole.Aggregated),
        new(DeadLetter, 6, 3, TopicRole.DeadLetter),
    ]);

    public TopicSpec? Find(string name) => _byName.GetValueOrDefault(name);

    public TopicSpec? FindByEventType(string eventType) => _byEventType.GetValueOrDefault(eventType);

    /// <summary>The same plan with every replication factor replaced (a one-broker dev cluster, say).</summary>
    public TopicPlan WithReplicationFactor(short replicationFactor) =>
        new(Topics.Select(t => t with { ReplicationFactor = replicationFactor }));

    /// <summary>The same plan with one more topic (a dynamically created one).</summary>
    public TopicPlan With(TopicSpec topic) => new(Topics.Where(t => t.Name != topic.Name).Append(topic));
}
