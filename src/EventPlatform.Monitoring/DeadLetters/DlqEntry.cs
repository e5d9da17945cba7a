using System.Globalization;
using EventPlatform.Core.DeadLetter;

namespace EventPlatform.Monitoring.DeadLetters;

/// <summary>
/// One record of the dead letter topic: where it sits, and the <see cref="DlqMessage"/> it holds, or
/// (when it does not read as one) null and the <paramref name="Problem"/> (see <see cref="DlqMessageReader"/>).
/// </summary>
public sealed record DlqEntry(string Topic, int Partition, long Offset, DateTimeOffset Timestamp, DlqMessage? Message, string? Problem = null)
{
    /// <summary>Whether the record could not be read as a DLQ message.</summary>
    public bool IsUnreadable => Message is null;

    /// <summary>The record's coordinates in the DLQ, <c>{topic}|{partition}|{offset}</c>: what the replay log is keyed by.</summary>
    public string Coordinates => string.Create(CultureInfo.InvariantCulture, $"{Topic}|{Partition}|{Offset}");
}

/// <summary>Which DLQ messages a command applies to; unset criteria match everything.</summary>
public sealed record DlqFilter(string? ErrorType = null, string? SourceTopic = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null)
{
    /// <summary>Whether <paramref name="entry"/> parses and matches; the time window applies to its last attempt (when it was dead-lettered).</summary>
    public bool Matches(DlqEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Message is { } m
            && (ErrorType is null || string.Equals(m.ErrorType, ErrorType, StringComparison.OrdinalIgnoreCase))
            && (SourceTopic is null || m.SourceTopic == SourceTopic)
            && (Since is null || m.LastAttemptTime >= Since)
            && (Until is null || m.LastAttemptTime < Until);
    }
}

/// <summary>The seed's daily report: DLQ messages of one day by error type.</summary>
public sealed record DlqReportLine(string ErrorType, int Count, IReadOnlyList<string> SourceTopics, DateTimeOffset First, DateTimeOffset Last, string ExampleMessage);

public static class DlqReport
{
    /// <summary>Messages dead-lettered on <paramref name="day"/> (UTC), grouped by error type, the largest group first.</summary>
    public static IReadOnlyList<DlqReportLine> Daily(IEnumerable<DlqEntry> entries, DateOnly day)
    {
        var from = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var filter = new DlqFilter(Since: from, Until: from.AddDays(1));
        return [.. entries.Where(filter.Matches).Select(e => e.Message!)
            .GroupBy(m => m.ErrorType, StringComparer.Ordinal)
            .Select(g => new DlqReportLine(
                g.Key,
                g.Count(),
                [.. g.Select(m => m.SourceTopic).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                g.Min(m => m.LastAttemptTime),
                g.Max(m => m.LastAttemptTime),
                g.First().ErrorMessage))
            .OrderByDescending(l => l.Count).ThenBy(l => l.ErrorType, StringComparer.Ordinal)];
    }
}
