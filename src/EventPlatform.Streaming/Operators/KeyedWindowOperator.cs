using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Streaming.Operators;

/// <summary>
/// Keeps one accumulator per key and event-time window and emits each window's result when the
/// watermark reaches its last timestamp, as Flink's <c>WindowOperator</c> with an event-time
/// trigger and an <c>AggregateFunction</c>.
/// </summary>
/// <remarks>
/// <para>A record is late for a window when the watermark is already at or past the window's
/// <see cref="TimeWindow.MaxTimestamp"/> (the window has fired). Lateness is judged per
/// (record, window): a record in several sliding windows may be on time for some and late for
/// others. Late (record, window) pairs follow the definition's <see cref="LateDataPolicy"/>.</para>
/// <para>Window state is purged when the watermark reaches <c>MaxTimestamp + AllowedLateness</c>;
/// a late record can update a window only while the watermark is below that.</para>
/// <para>Output order is deterministic: on a watermark advance, windows fire by end, then key
/// (ordinal for strings), then start; late updates are emitted as their records arrive. The same
/// input and watermarks therefore replay to the same output.</para>
/// <para>Not thread-safe: one consume loop owns an operator.</para>
/// </remarks>
public sealed class KeyedWindowOperator<TKey, TIn, TAcc, TOut>
    where TKey : notnull
{
    private const byte SnapshotVersion = 1;
    private const int MaxSnapshotKeys = 1 << 24;
    private const int MaxSnapshotWindowsPerKey = 1 << 20;

    private readonly WindowAssigner _assigner;
    private readonly LateDataPolicy _latePolicy;
    private readonly IAggregateFunction<TIn, TAcc, TOut> _aggregate;
    private readonly IWindowOutput<TKey, TIn, TOut> _output;
    private readonly IComparer<TKey> _keyComparer;
    private readonly Dictionary<TKey, List<WindowState>> _windowsByKey;
    private readonly SortedSet<Timer> _fireTimers;
    private readonly SortedSet<Timer> _purgeTimers;
    private readonly List<TimeWindow> _assigned = [];
    private long _watermark = EventTime.NoWatermark;

    private const long NoTimer = long.MinValue;

    /// <summary>
    /// Creates an operator. <paramref name="keyComparer"/> orders keys in the output; by default
    /// ordinal for strings and <see cref="Comparer{T}.Default"/> otherwise. Keys that compare equal
    /// must be equal under <paramref name="keyEquality"/>.
    /// </summary>
    public KeyedWindowOperator(
        WindowDefinition definition,
        IAggregateFunction<TIn, TAcc, TOut> aggregate,
        IWindowOutput<TKey, TIn, TOut> output,
        IComparer<TKey>? keyComparer = null,
        IEqualityComparer<TKey>? keyEquality = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(aggregate);
        ArgumentNullException.ThrowIfNull(output);
        _assigner = definition.Assigner;
        _latePolicy = definition.LatePolicy;
        _aggregate = aggregate;
        _output = output;
        _keyComparer = keyComparer ?? (typeof(TKey) == typeof(string) ? (IComparer<TKey>)StringComparer.Ordinal : Comparer<TKey>.Default);
        _windowsByKey = new Dictionary<TKey, List<WindowState>>(keyEquality);
        var timerOrder = new TimerComparer(_keyComparer);
        _fireTimers = new SortedSet<Timer>(timerOrder);
        _purgeTimers = new SortedSet<Timer>(timerOrder);
    }

    /// <summary>The operator's watermark: every window whose last timestamp is at or below it has fired.</summary>
    public long Watermark => _watermark;

    /// <summary>Late (record, window) pairs discarded under <see cref="LateDataKind.Drop"/>.</summary>
    public long DroppedLateCount { get; private set; }

    /// <summary>Windows whose state is held (open, or fired and within allowed lateness).</summary>
    public int WindowCount => _purgeTimers.Count;

    /// <summary>Keys with at least one window held.</summary>
    public int KeyCount => _windowsByKey.Count;

    /// <summary>Told what became of each late (record, window) pair; for metrics, not part of the state.</summary>
    internal Action<LateOutcome>? LateObserver { get; set; }

    /// <summary>Adds one record with event time <paramref name="timestamp"/> to its windows.</summary>
    public void Process(TKey key, long timestamp, TIn input)
    {
        ArgumentNullException.ThrowIfNull(key);
        _assigned.Clear();
        _assigner.AssignWindows(timestamp, _assigned);
        if (_assigner.IsMerging)
        {
            ProcessIntoSession(key, timestamp, input, _assigned[0]);
            return;
        }
        // One lookup of the key's windows per record, not one per window it falls in.
        List<WindowState>? windows = null;
        foreach (var window in _assigned)
        {
            if (IsLate(window))
            {
                HandleLate(key, timestamp, input, window);
                windows = null;
                continue;
            }
            if (windows is null && !_windowsByKey.TryGetValue(key, out windows))
            {
                windows = [];
                _windowsByKey[key] = windows;
            }
            var index = IndexOf(windows, window.Start);
            WindowState state;
            if (index >= 0)
            {
                state = windows[index];
            }
            else
            {
                state = new WindowState(window, _aggregate.CreateAccumulator());
                windows.Insert(~index, state);
                AddTimers(key, state);
            }
            state.Accumulator = _aggregate.Add(state.Accumulator, input);
        }
    }

    /// <summary>
    /// Moves event time to <paramref name="watermark"/>: fires every window that is now complete
    /// and purges those past their allowed lateness. A watermark at or below the current one is ignored.
    /// </summary>
    public void AdvanceWatermark(long watermark)
    {
        if (watermark <= _watermark)
        {
            return;
        }
        _watermark = watermark;
        while (_fireTimers.Count > 0 && _fireTimers.Min.Time <= watermark)
        {
            var timer = _fireTimers.Min;
            _fireTimers.Remove(timer);
            var state = Find(timer.Key, timer.Start)!;
            state.FireAt = NoTimer;
            if (state.Window.MaxTimestamp > timer.Time)
            {
                // A session extended in place keeps its earlier timer until it comes due (cheaper than
                // moving it on every record); it moves now, to where it still fires in order.
                SetFireTimer(timer.Key, state);
                continue;
            }
            Fire(timer.Key, state);
        }
        while (_purgeTimers.Count > 0 && _purgeTimers.Min.Time <= watermark)
        {
            var timer = _purgeTimers.Min;
            var state = Find(timer.Key, timer.Start)!;
            if (CleanupTime(state.Window) > timer.Time)
            {
                _purgeTimers.Remove(timer);
                SetPurgeTimer(timer.Key, state);
                continue;
            }
            RemoveState(timer.Key, timer.Start);
        }
    }

    /// <summary>
    /// Writes the whole operator state: definition (checked on restore), watermark, dropped count,
    /// and every held window with its accumulator, after a leading format version byte.
    /// </summary>
    public void WriteSnapshot(SnapshotWriter writer, IStateSerializer<TKey> keys, IStateSerializer<TAcc> accumulators)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(accumulators);
        writer.WriteByte(SnapshotVersion);
        WriteDefinition(writer);
        writer.WriteInt64(_watermark);
        writer.WriteInt64(DroppedLateCount);
        writer.WriteInt32(_windowsByKey.Count);
        // Keys in output order, so equal states give equal bytes.
        foreach (var (key, windows) in _windowsByKey.OrderBy(k => k.Key, _keyComparer))
        {
            keys.Write(writer, key);
            writer.WriteInt32(windows.Count);
            foreach (var state in windows)
            {
                writer.WriteInt64(state.Window.Start);
                writer.WriteInt64(state.Window.End);
                writer.WriteBoolean(state.Fired);
                accumulators.Write(writer, state.Accumulator);
            }
        }
    }

    /// <summary>
    /// Replaces this operator's state with a snapshot written by an operator of the same
    /// definition. On any corruption it throws <see cref="SnapshotFormatException"/> and keeps its
    /// current state.
    /// </summary>
    public void RestoreSnapshot(SnapshotReader reader, IStateSerializer<TKey> keys, IStateSerializer<TAcc> accumulators)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(accumulators);
        reader.ExpectVersion(SnapshotVersion, "window operator");
        ReadAndCheckDefinition(reader);
        var watermark = reader.ReadInt64();
        var dropped = reader.ReadInt64();
        reader.Check(dropped >= 0, "negative dropped count");
        var keyCount = reader.ReadCount(MaxSnapshotKeys, bytesPerItem: 4);
        var windowsByKey = new Dictionary<TKey, List<WindowState>>(_windowsByKey.Comparer);
        for (var k = 0; k < keyCount; k++)
        {
            var key = keys.Read(reader) ?? throw new SnapshotFormatException("Corrupt snapshot: a key read as null.");
            var windowCount = reader.ReadCount(MaxSnapshotWindowsPerKey, bytesPerItem: 17);
            var windows = new List<WindowState>(windowCount);
            for (var w = 0; w < windowCount; w++)
            {
                var window = new TimeWindow(reader.ReadInt64(), reader.ReadInt64());
                reader.Check(FitsDefinition(window), "a window that this definition cannot make");
                reader.Check(windows.Count == 0 || windows[^1].Window.End <= window.Start || !_assigner.IsMerging, "overlapping sessions");
                reader.Check(windows.Count == 0 || windows[^1].Window.Start < window.Start, "windows out of order");
                var fired = reader.ReadBoolean();
                windows.Add(new WindowState(window, accumulators.Read(reader)) { Fired = fired });
            }
            reader.Check(windowsByKey.TryAdd(key, windows), "duplicate key");
        }

        _windowsByKey.Clear();
        _fireTimers.Clear();
        _purgeTimers.Clear();
        _watermark = watermark;
        DroppedLateCount = dropped;
        foreach (var (key, windows) in windowsByKey)
        {
            _windowsByKey[key] = windows;
            foreach (var state in windows)
            {
                AddTimers(key, state);
            }
        }
    }

    private void ProcessIntoSession(TKey key, long timestamp, TIn input, TimeWindow candidate)
    {
        // TryGetValue, not GetValueOrDefault: that extension takes the read-only interface, one more dispatch per record.
        _windowsByKey.TryGetValue(key, out var sessions);
        var merged = candidate;
        var firstOverlap = -1;
        var overlapCount = 0;
        if (sessions is not null)
        {
            for (var i = 0; i < sessions.Count; i++)
            {
                if (sessions[i].Window.Overlaps(candidate))
                {
                    firstOverlap = firstOverlap < 0 ? i : firstOverlap;
                    overlapCount++;
                    merged = merged.Cover(sessions[i].Window);
                }
            }
        }

        if (IsLate(merged) && !AcceptsUpdate(merged))
        {
            HandleLate(key, timestamp, input, merged);
            return;
        }

        if (overlapCount == 1 && !IsLate(merged) && sessions![firstOverlap].Window.Start == merged.Start)
        {
            // The common case: a record within the gap of one session, at or after its start, only
            // moves the session's end. The state stays where it is (sessions are ordered by start)
            // and its timers move lazily (AdvanceWatermark); a session that had fired and is open
            // again needs a fire timer once more.
            var session = sessions[firstOverlap];
            session.Window = merged;
            session.Accumulator = _aggregate.Add(session.Accumulator, input);
            if (session.FireAt == NoTimer)
            {
                SetFireTimer(key, session);
            }
            return;
        }

        var accumulator = _aggregate.CreateAccumulator();
        var fired = false;
        for (var i = 0; i < overlapCount; i++)
        {
            // Sessions of one key never overlap each other, so the overlapping ones are contiguous.
            var part = sessions![firstOverlap];
            accumulator = _aggregate.Merge(accumulator, part.Accumulator);
            fired |= part.Fired;
            RemoveState(key, part.Window.Start);
        }
        var state = new WindowState(merged, _aggregate.Add(accumulator, input)) { Fired = fired };
        Insert(key, state);
        if (IsLate(merged))
        {
            LateObserver?.Invoke(LateOutcome.Updated);
            Fire(key, state);
        }
    }

    private void HandleLate(TKey key, long timestamp, TIn input, TimeWindow window)
    {
        switch (_latePolicy.Kind)
        {
            case LateDataKind.Drop:
                DroppedLateCount++;
                LateObserver?.Invoke(LateOutcome.Dropped);
                break;
            case LateDataKind.SideOutput:
                LateObserver?.Invoke(LateOutcome.SideOutput);
                _output.EmitLate(new LateRecord<TKey, TIn>(key, timestamp, input, _assigner.Identify(window), LateReason.WindowFired));
                break;
            case LateDataKind.Update when AcceptsUpdate(window):
                LateObserver?.Invoke(LateOutcome.Updated);
                var state = GetOrCreate(key, window);
                state.Accumulator = _aggregate.Add(state.Accumulator, input);
                Fire(key, state);
                break;
            default:
                LateObserver?.Invoke(LateOutcome.SideOutput);
                _output.EmitLate(new LateRecord<TKey, TIn>(key, timestamp, input, _assigner.Identify(window), LateReason.BeyondAllowedLateness));
                break;
        }
    }

    private bool IsLate(TimeWindow window) => _watermark >= window.MaxTimestamp;

    private bool AcceptsUpdate(TimeWindow window) =>
        _latePolicy.Kind == LateDataKind.Update && _watermark < CleanupTime(window);

    private long CleanupTime(TimeWindow window) => window.MaxTimestamp + _latePolicy.AllowedLatenessMilliseconds;

    private void Fire(TKey key, WindowState state)
    {
        if (state.FireAt != NoTimer)
        {
            _fireTimers.Remove(new Timer(state.FireAt, key, state.Window.Start));
            state.FireAt = NoTimer;
        }
        _output.Emit(new WindowResult<TKey, TOut>(key, _assigner.Identify(state.Window), _aggregate.GetResult(state.Accumulator), state.Fired));
        state.Fired = true;
        if (CleanupTime(state.Window) <= _watermark)
        {
            RemoveState(key, state.Window.Start);
        }
    }

    private WindowState GetOrCreate(TKey key, TimeWindow window) =>
        Find(key, window.Start) ?? Insert(key, new WindowState(window, _aggregate.CreateAccumulator()));

    private WindowState Insert(TKey key, WindowState state)
    {
        if (!_windowsByKey.TryGetValue(key, out var windows))
        {
            windows = [];
            _windowsByKey[key] = windows;
        }
        var index = IndexOf(windows, state.Window.Start);
        windows.Insert(~index, state);
        AddTimers(key, state);
        return state;
    }

    private void AddTimers(TKey key, WindowState state)
    {
        // A window not yet complete waits to fire; a complete one has fired (or fires right away
        // as a late update), even if a session merge made it an update of earlier firings.
        if (!IsLate(state.Window))
        {
            SetFireTimer(key, state);
        }
        SetPurgeTimer(key, state);
    }

    private void SetFireTimer(TKey key, WindowState state)
    {
        state.FireAt = state.Window.MaxTimestamp;
        _fireTimers.Add(new Timer(state.FireAt, key, state.Window.Start));
    }

    private void SetPurgeTimer(TKey key, WindowState state)
    {
        state.PurgeAt = CleanupTime(state.Window);
        _purgeTimers.Add(new Timer(state.PurgeAt, key, state.Window.Start));
    }

    private WindowState? Find(TKey key, long start)
    {
        if (!_windowsByKey.TryGetValue(key, out var windows))
        {
            return null;
        }
        var index = IndexOf(windows, start);
        return index >= 0 ? windows[index] : null;
    }

    private void RemoveState(TKey key, long start)
    {
        if (!_windowsByKey.TryGetValue(key, out var windows))
        {
            return;
        }
        var index = IndexOf(windows, start);
        if (index < 0)
        {
            return;
        }
        var state = windows[index];
        windows.RemoveAt(index);
        if (windows.Count == 0)
        {
            _windowsByKey.Remove(key);
        }
        if (state.FireAt != NoTimer)
        {
            _fireTimers.Remove(new Timer(state.FireAt, key, start));
        }
        _purgeTimers.Remove(new Timer(state.PurgeAt, key, start));
    }

    private static int IndexOf(List<WindowState> windows, long start)
    {
        int low = 0, high = windows.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var middleStart = windows[middle].Window.Start;
            if (middleStart == start)
            {
                return middle;
            }
            if (middleStart < start)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return ~low;
    }

    // Checked on restore, so that corrupt bounds cannot produce windows the assigner never would.
    private bool FitsDefinition(TimeWindow window)
    {
        if (window.Start < EventTime.MinTimestamp - EventTime.MaxDurationMilliseconds || window.Start >= window.End
            || window.End > EventTime.MaxTimestamp + EventTime.MaxDurationMilliseconds)
        {
            return false;
        }
        return _assigner.IsMerging
            ? window.End - window.Start >= _assigner.Size
            : window.End - window.Start == _assigner.Size && EventTime.FloorMod(window.Start - _assigner.Offset, _assigner.Slide) == 0;
    }

    private void WriteDefinition(SnapshotWriter writer)
    {
        writer.WriteByte((byte)_assigner.Kind);
        writer.WriteInt64(_assigner.Size);
        writer.WriteInt64(_assigner.Slide);
        writer.WriteInt64(_assigner.Offset);
        writer.WriteByte((byte)_latePolicy.Kind);
        writer.WriteInt64(_latePolicy.AllowedLatenessMilliseconds);
    }

    private void ReadAndCheckDefinition(SnapshotReader reader)
    {
        var matches = reader.ReadByte() == (byte)_assigner.Kind
            & reader.ReadInt64() == _assigner.Size
            & reader.ReadInt64() == _assigner.Slide
            & reader.ReadInt64() == _assigner.Offset
            & reader.ReadByte() == (byte)_latePolicy.Kind
            & reader.ReadInt64() == _latePolicy.AllowedLatenessMilliseconds;
        reader.Check(matches, "it was written for another window definition or late-data policy");
    }

    private sealed class WindowState(TimeWindow window, TAcc accumulator)
    {
        /// <summary>The window; a session's end moves when it is extended in place.</summary>
        public TimeWindow Window { get; set; } = window;

        public TAcc Accumulator { get; set; } = accumulator;

        public bool Fired { get; set; }

        /// <summary>The time of this window's fire timer, <see cref="NoTimer"/> without one; may be earlier than its last timestamp (a lazily moved timer).</summary>
        public long FireAt { get; set; } = NoTimer;

        /// <summary>The time of this window's purge timer; may be earlier than its cleanup time (lazily moved).</summary>
        public long PurgeAt { get; set; }
    }

    private readonly record struct Timer(long Time, TKey Key, long Start);

    private sealed class TimerComparer(IComparer<TKey> keys) : IComparer<Timer>
    {
        public int Compare(Timer x, Timer y)
        {
            var byTime = x.Time.CompareTo(y.Time);
            if (byTime != 0)
            {
                return byTime;
            }
            var byKey = keys.Compare(x.Key, y.Key);
            return byKey != 0 ? byKey : x.Start.CompareTo(y.Start);
        }
    }
}

/// <summary>What became of a late (record, window) pair.</summary>
internal enum LateOutcome
{
    /// <summary>Discarded (<see cref="LateDataKind.Drop"/>).</summary>
    Dropped,

    /// <summary>Sent to the late output (<see cref="LateDataKind.SideOutput"/>, or beyond the allowed lateness of <see cref="LateDataKind.Update"/>).</summary>
    SideOutput,

    /// <summary>Added to its window, which was emitted again (<see cref="LateDataKind.Update"/>).</summary>
    Updated,
}
