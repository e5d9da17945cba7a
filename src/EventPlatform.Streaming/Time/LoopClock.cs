namespace EventPlatform.Streaming.Time;

/// <summary>
/// Processing time as a consume loop sees it: the underlying clock is read when the loop calls
/// <see cref="Refresh"/> (once per record and per empty poll), and every operator that asks in
/// between gets that reading, not a read of its own.
/// </summary>
/// <remarks>
/// A record asked the clock up to ten times on its way through the default job (the source's and
/// the window tasks' watermark trackers, the metrics, the schedule), at ~30 ns a read on this
/// machine's kvm-clock: about a tenth of the job thread (README, processor). Idleness is judged in
/// seconds and latency in milliseconds, so one reading per record is precise enough.
/// Not thread-safe: the loop's thread refreshes and reads it; other threads keep the underlying clock.
/// </remarks>
internal sealed class LoopClock : TimeProvider
{
    private readonly TimeProvider _clock;
    private long _timestamp;
    private DateTimeOffset _utcNow;
    private bool _utcNowRead;

    public LoopClock(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _timestamp = clock.GetTimestamp();
    }

    /// <summary>Reads the underlying clock's timestamp now (its UTC time is read when first asked for); returns the timestamp.</summary>
    public long Refresh()
    {
        _utcNowRead = false;
        return _timestamp = _clock.GetTimestamp();
    }

    public override long GetTimestamp() => _timestamp;

    public override DateTimeOffset GetUtcNow()
    {
        if (!_utcNowRead)
        {
            _utcNow = _clock.GetUtcNow();
            _utcNowRead = true;
        }
        return _utcNow;
    }

    public override long TimestampFrequency => _clock.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _clock.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _clock.CreateTimer(callback, state, dueTime, period);
}
