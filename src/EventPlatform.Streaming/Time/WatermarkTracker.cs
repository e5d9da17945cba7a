using System.Runtime.InteropServices;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Time;

/// <summary>
/// Tracks event time per input partition and combines it into the operator's watermark.
/// </summary>
/// <remarks>
/// <para>Per partition the watermark is the largest timestamp seen minus the bound minus 1 ms
/// (Flink's <c>BoundedOutOfOrdernessWatermarks</c>): a record at exactly that bound is still
/// on time. A partition that has seen no record holds the combined watermark at
/// <see cref="EventTime.NoWatermark"/>, because it may yet deliver old records.</para>
/// <para>The combined watermark is the minimum over active partitions. A partition is idle once
/// <see cref="WatermarkOptions.IdleTimeout"/> of processing time has passed since its last
/// record (or since it was added); idle partitions are left out of the minimum until they see a
/// record. If every partition is idle the watermark holds, unless the whole stream has been
/// quiet for <see cref="WatermarkOptions.StreamIdleTimeout"/>: then it becomes the largest
/// timestamp seen plus the wall time since that record arrived, minus the bound.</para>
/// <para>The combined watermark never goes backwards: a partition that wakes up behind it
/// delivers late records, which the operator's late-data policy handles.</para>
/// <para>Not thread-safe: one consume loop owns it.</para>
/// </remarks>
public sealed class WatermarkTracker
{
    private const byte SnapshotVersion = 1;
    private const int MaxSnapshotPartitions = 1 << 20;

    private readonly Dictionary<int, PartitionClock> _partitions = [];
    private readonly TimeProvider _clock;
    private readonly long _clockOrigin;
    private readonly long _boundMs;
    private readonly long? _idleTimeoutTicks;
    private readonly long? _streamIdleTimeoutTicks;
    private long _combined = EventTime.NoWatermark;
    private long _maxTimestampSeen = EventTime.NoWatermark;
    private long _lastRecordTicks;
    private bool _anyRecord;

    // The minimum over active partitions, kept between calls: a full pass over the partitions per
    // record was 5 % of the processor's job thread with 48 source partitions (README, processor).
    // Valid until a partition is added, removed or restored, an observation raises a partition that
    // may be the minimum or brings back an idle one, or the earliest idle deadline passes.
    private bool _minimumStale = true;
    private long _minimum = long.MaxValue;
    private long _nextIdleTicks = long.MaxValue;

    /// <summary>Creates a tracker reading processing time from <paramref name="clock"/>.</summary>
    public WatermarkTracker(WatermarkOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _clockOrigin = clock.GetTimestamp();
        _boundMs = EventTime.ToMilliseconds(options.MaxOutOfOrderness, nameof(options.MaxOutOfOrderness), allowZero: true);
        _idleTimeoutTicks = PositiveTicks(options.IdleTimeout, nameof(options.IdleTimeout));
        _streamIdleTimeoutTicks = PositiveTicks(options.StreamIdleTimeout, nameof(options.StreamIdleTimeout));
    }

    /// <summary>The partitions currently tracked.</summary>
    public IReadOnlyCollection<int> Partitions => _partitions.Keys;

    /// <summary>
    /// Starts tracking a partition (on assignment). Until it sees a record or goes idle it holds
    /// the combined watermark back. Adding a tracked partition does nothing.
    /// </summary>
    public void AddPartition(int partition)
    {
        if (!_partitions.ContainsKey(partition))
        {
            _partitions[partition] = new PartitionClock(EventTime.NoWatermark, Now());
            _minimumStale = true;
        }
    }

    /// <summary>Stops tracking a partition (on revocation); the combined watermark does not go back.</summary>
    public void RemovePartition(int partition) => _minimumStale |= _partitions.Remove(partition);

    /// <summary>Records that <paramref name="partition"/> delivered a record with event time <paramref name="timestamp"/>.</summary>
    public void Observe(int partition, long timestamp)
    {
        EventTime.EnsureInRange(timestamp);
        var now = Now();
        ref var clock = ref CollectionsMarshal.GetValueRefOrAddDefault(_partitions, partition, out var existed);
        var previous = existed ? clock.MaxTimestamp : EventTime.NoWatermark;
        // Raising a partition strictly above the minimum, one that counted in it (not idle), leaves the
        // minimum as it is; its idle deadline only moves later, so _nextIdleTicks stays early enough.
        if (!existed || PartitionWatermark(previous) <= _minimum || IsIdle(clock, now))
        {
            _minimumStale = true;
        }
        clock = new PartitionClock(Math.Max(previous, timestamp), now);
        if (timestamp >= _maxTimestampSeen)
        {
            _maxTimestampSeen = timestamp;
        }
        _lastRecordTicks = now;
        _anyRecord = true;
    }

    /// <summary>
    /// Recomputes the combined watermark at the current processing time and returns it. Call it
    /// after a batch of records and on a timer, so that idleness is noticed without records.
    /// </summary>
    public long CurrentWatermark()
    {
        var now = Now();
        if (_minimumStale || now >= _nextIdleTicks)
        {
            ComputeMinimum(now);
        }
        var candidate = _minimum;
        if (candidate == long.MaxValue)
        {
            candidate = EventTime.NoWatermark;
        }

        // Independent of per-partition idleness: a stream with no record anywhere for the stream
        // timeout has every partition quiet, whether or not partitions may go idle on their own.
        candidate = Math.Max(candidate, StreamIdleWatermark(now));
        if (candidate > _combined)
        {
            _combined = candidate;
        }
        return _combined;
    }

    private void ComputeMinimum(long now)
    {
        var minimum = long.MaxValue;
        var nextIdle = long.MaxValue;
        foreach (var (_, clock) in _partitions)
        {
            if (IsIdle(clock, now))
            {
                continue;
            }
            minimum = Math.Min(minimum, PartitionWatermark(clock.MaxTimestamp));
            if (_idleTimeoutTicks is { } idle)
            {
                nextIdle = Math.Min(nextIdle, clock.LastActivityTicks + idle);
            }
        }
        _minimum = minimum;
        _nextIdleTicks = nextIdle;
        _minimumStale = false;
    }

    private bool IsIdle(PartitionClock clock, long now) => _idleTimeoutTicks is { } idle && now - clock.LastActivityTicks >= idle;

    /// <summary>Writes the tracker's event-time state (not its processing-time clocks).</summary>
    public void WriteSnapshot(SnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteByte(SnapshotVersion);
        writer.WriteInt64(_combined);
        writer.WriteInt64(_maxTimestampSeen);
        writer.WriteBoolean(_anyRecord);
        writer.WriteInt32(_partitions.Count);
        foreach (var (partition, clock) in _partitions.OrderBy(p => p.Key))
        {
            writer.WriteInt32(partition);
            writer.WriteInt64(clock.MaxTimestamp);
        }
    }

    /// <summary>
    /// Replaces this tracker's state with a snapshot. Processing-time clocks restart now: every
    /// partition counts as having just delivered a record, so idleness is measured afresh.
    /// </summary>
    public void RestoreSnapshot(SnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        reader.ExpectVersion(SnapshotVersion, "watermark tracker");
        var combined = reader.ReadInt64();
        var maxSeen = reader.ReadInt64();
        var anyRecord = reader.ReadBoolean();
        reader.Check(IsWatermarkOrNone(combined), "combined watermark out of range");
        reader.Check(maxSeen == EventTime.NoWatermark ? !anyRecord : anyRecord && IsTimestamp(maxSeen), "largest timestamp out of range");
        var count = reader.ReadCount(MaxSnapshotPartitions, bytesPerItem: 12);
        var now = Now();
        var partitions = new Dictionary<int, PartitionClock>(count);
        for (var i = 0; i < count; i++)
        {
            var partition = reader.ReadInt32();
            var maxTimestamp = reader.ReadInt64();
            reader.Check(maxTimestamp == EventTime.NoWatermark || IsTimestamp(maxTimestamp), "partition timestamp out of range");
            reader.Check(partitions.TryAdd(partition, new PartitionClock(maxTimestamp, now)), "duplicate partition");
        }

        _partitions.Clear();
        foreach (var (partition, clock) in partitions)
        {
            _partitions[partition] = clock;
        }
        _minimumStale = true;
        _combined = combined;
        _maxTimestampSeen = maxSeen;
        _anyRecord = anyRecord;
        _lastRecordTicks = now;
    }

    private long StreamIdleWatermark(long now)
    {
        if (!_anyRecord || _streamIdleTimeoutTicks is not { } streamIdle || now - _lastRecordTicks < streamIdle)
        {
            return EventTime.NoWatermark;
        }
        var elapsedMs = (now - _lastRecordTicks) / TimeSpan.TicksPerMillisecond;
        // Capped so that a clock jump cannot push event time past the accepted range.
        var wallClockTime = Math.Min(_maxTimestampSeen + elapsedMs, EventTime.MaxTimestamp);
        return PartitionWatermark(wallClockTime);
    }

    private static bool IsTimestamp(long value) => value is >= EventTime.MinTimestamp and <= EventTime.MaxTimestamp;

    private static bool IsWatermarkOrNone(long value) =>
        value == EventTime.NoWatermark || (value >= EventTime.MinTimestamp - EventTime.MaxDurationMilliseconds - 1 && value <= EventTime.MaxTimestamp);

    private long PartitionWatermark(long maxTimestamp) =>
        maxTimestamp == EventTime.NoWatermark ? EventTime.NoWatermark : maxTimestamp - _boundMs - 1;

    // Monotonic processing time in ticks since construction: wall-clock jumps must not fake idleness.
    private long Now() => _clock.GetElapsedTime(_clockOrigin).Ticks;

    private static long? PositiveTicks(TimeSpan? timeout, string name)
    {
        if (timeout is not { } value)
        {
            return null;
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, name);
        return value.Ticks;
    }

    private readonly record struct PartitionClock(long MaxTimestamp, long LastActivityTicks);
}
