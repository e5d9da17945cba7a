namespace EventPlatform.Streaming.Time;

/// <summary>
/// How event time advances: Flink's bounded out-of-orderness strategy with idleness, plus a
/// whole-stream idle timeout so that a stream that goes quiet still closes its last windows.
/// </summary>
public sealed record WatermarkOptions
{
    /// <summary>How far behind the newest timestamp a record may arrive and still be on time (seed: 10 s).</summary>
    public TimeSpan MaxOutOfOrderness { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A partition with no record for this long (processing time) stops holding the combined
    /// watermark back until it sees a record again. <c>null</c>: never idle, as Flink without
    /// <c>withIdleness</c>.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>
    /// When no partition has had a record for this long, event time follows the wall clock from
    /// the last record. <c>null</c>: the watermark waits for the next record.
    /// </summary>
    public TimeSpan? StreamIdleTimeout { get; init; }
}
