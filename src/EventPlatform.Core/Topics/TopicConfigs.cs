using System.Globalization;

namespace EventPlatform.Core.Topics;

/// <summary>The topic-level configs the platform sets on its internal topics, by Kafka's names.</summary>
public static class TopicConfigs
{
    public const string CleanupPolicy = "cleanup.policy";
    public const string RetentionMs = "retention.ms";

    public static IReadOnlyDictionary<string, string> None { get; } = new Dictionary<string, string>();

    /// <summary>
    /// A compacted topic: Kafka keeps at least the last record of every key, forever. For state that
    /// is rebuilt by reading the whole topic (the registry's <c>_schemas</c>, as Confluent's registry makes it).
    /// </summary>
    public static IReadOnlyDictionary<string, string> Compacted() =>
        new Dictionary<string, string>(StringComparer.Ordinal) { [CleanupPolicy] = "compact" };

    /// <summary>
    /// A topic whose records are deleted once older than <paramref name="retention"/> (Kafka drops
    /// whole segments, so records may live somewhat longer, never shorter).
    /// </summary>
    public static IReadOnlyDictionary<string, string> RetainedFor(TimeSpan retention) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [CleanupPolicy] = "delete",
            [RetentionMs] = ((long)retention.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
}
