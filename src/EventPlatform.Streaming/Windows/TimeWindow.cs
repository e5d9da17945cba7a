namespace EventPlatform.Streaming.Windows;

/// <summary>
/// A half-open interval of event time, <c>[Start, End)</c> in epoch milliseconds, as Flink's
/// <c>TimeWindow</c>: an event at <c>End</c> belongs to the next window.
/// </summary>
public readonly record struct TimeWindow(long Start, long End)
{
    /// <summary>The last timestamp inside the window; the window fires when the watermark reaches it.</summary>
    public long MaxTimestamp => End - 1;

    /// <summary>Whether <paramref name="timestamp"/> lies in <c>[Start, End)</c>.</summary>
    public bool Contains(long timestamp) => timestamp >= Start && timestamp < End;

    /// <summary>
    /// Whether the two windows share a timestamp. Sessions merge only when they overlap, not when
    /// they merely touch: a session fires once the watermark reaches its last timestamp, and a
    /// record at its end is still on time then, so letting it extend the session (as Flink's
    /// <c>intersects</c> does) would change a window that has already fired.
    /// </summary>
    public bool Overlaps(TimeWindow other) => Start < other.End && other.Start < End;

    /// <summary>The smallest window covering both.</summary>
    public TimeWindow Cover(TimeWindow other) => new(Math.Min(Start, other.Start), Math.Max(End, other.End));
}
