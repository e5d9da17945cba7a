namespace EventPlatform.Streaming.Windows;

/// <summary>
/// Decides which windows an event belongs to, as Flink's event-time window assigners. Instances
/// are immutable and thread-safe. Create them with <see cref="Tumbling"/>, <see cref="Sliding"/>
/// or <see cref="Session"/>.
/// </summary>
public abstract class WindowAssigner
{
    private protected WindowAssigner(WindowKind kind, long size, long slide, long offset)
    {
        Kind = kind;
        Size = size;
        Slide = slide;
        Offset = offset;
    }

    /// <summary>The kind of windows this assigner makes.</summary>
    public WindowKind Kind { get; }

    /// <summary>Window size in ms (the gap for sessions).</summary>
    public long Size { get; }

    /// <summary>Distance between window starts in ms (the size for tumbling, zero for sessions).</summary>
    public long Slide { get; }

    /// <summary>Shift of window starts from the epoch in ms, in <c>[0, Slide)</c>.</summary>
    public long Offset { get; }

    /// <summary>Whether windows of one key merge (sessions), so state must be merged, not looked up.</summary>
    public bool IsMerging => Kind == WindowKind.Session;

    /// <summary>
    /// Adds to <paramref name="windows"/> every window that contains <paramref name="timestamp"/>,
    /// latest start first. Throws when the timestamp is outside <see cref="EventTime"/>'s range.
    /// </summary>
    public abstract void AssignWindows(long timestamp, ICollection<TimeWindow> windows);

    /// <summary>The identity of <paramref name="window"/> under this definition, for output keys.</summary>
    public WindowIdentity Identify(TimeWindow window) => new(Kind, Size, Slide, window);

    /// <summary>Fixed windows of <paramref name="size"/>, starting at multiples of it plus <paramref name="offset"/>.</summary>
    public static WindowAssigner Tumbling(TimeSpan size, TimeSpan offset = default)
    {
        var sizeMs = EventTime.ToMilliseconds(size, nameof(size));
        return new SlidingAssigner(WindowKind.Tumbling, sizeMs, sizeMs, NormalizeOffset(offset, sizeMs));
    }

    /// <summary>
    /// Windows of <paramref name="size"/> starting every <paramref name="slide"/>. When the slide
    /// divides the size each event is in size/slide windows; when the slide exceeds the size some
    /// events fall in no window, as in Flink.
    /// </summary>
    public static WindowAssigner Sliding(TimeSpan size, TimeSpan slide, TimeSpan offset = default)
    {
        var sizeMs = EventTime.ToMilliseconds(size, nameof(size));
        var slideMs = EventTime.ToMilliseconds(slide, nameof(slide));
        return new SlidingAssigner(WindowKind.Sliding, sizeMs, slideMs, NormalizeOffset(offset, slideMs));
    }

    /// <summary>
    /// Session windows: each event opens <c>[t, t + gap)</c>, and overlapping windows of the same
    /// key merge into one, so records less than <paramref name="gap"/> apart share a session.
    /// </summary>
    public static WindowAssigner Session(TimeSpan gap) =>
        new SessionAssigner(EventTime.ToMilliseconds(gap, nameof(gap)));

    // A negative offset (e.g. -8 h for a time zone) is the same grid as slide minus it.
    private static long NormalizeOffset(TimeSpan offset, long slide)
    {
        var magnitude = EventTime.ToMilliseconds(offset.Duration(), nameof(offset), allowZero: true);
        return EventTime.FloorMod(offset < TimeSpan.Zero ? -magnitude : magnitude, slide);
    }

    private sealed class SlidingAssigner(WindowKind kind, long size, long slide, long offset)
        : WindowAssigner(kind, size, slide, offset)
    {
        public override void AssignWindows(long timestamp, ICollection<TimeWindow> windows)
        {
            EventTime.EnsureInRange(timestamp);
            // Floor arithmetic, so that -1 ms falls in [-size, 0) and not in [0, size).
            var lastStart = timestamp - EventTime.FloorMod(timestamp - Offset, Slide);
            for (var start = lastStart; start > timestamp - Size; start -= Slide)
            {
                windows.Add(new TimeWindow(start, start + Size));
            }
        }
    }

    private sealed class SessionAssigner(long gap) : WindowAssigner(WindowKind.Session, gap, 0, 0)
    {
        public override void AssignWindows(long timestamp, ICollection<TimeWindow> windows)
        {
            EventTime.EnsureInRange(timestamp);
            windows.Add(new TimeWindow(timestamp, timestamp + Size));
        }
    }
}
