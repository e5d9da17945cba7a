using HdrHistogram;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// Latency percentiles over the recent past (by default the last 60 s), for the
/// <c>latency_ms</c> field of the service metrics.
/// </summary>
/// <remarks>
/// <para>
/// Every value goes into a wait-free HdrHistogram <see cref="Recorder"/>: no lock per request.
/// Once a second (and before every read) what was recorded since is moved into one of
/// per-second slots; a read merges the slots still inside the window. So the window is exact to
/// about a second, and memory is fixed (about 20 KB per slot).
/// </para>
/// <para>
/// Values are kept in microseconds from 1 µs to 60 s (longer ones count as 60 s) with two
/// significant digits: a percentile is within 1 % of the true value. Thread-safe.
/// </para>
/// </remarks>
public sealed class LatencyWindow : IDisposable
{
    /// <summary>The largest latency told apart; longer ones are recorded as this.</summary>
    public static readonly TimeSpan Highest = TimeSpan.FromSeconds(60);

    private const long LowestMicros = 1;
    private const int SignificantDigits = 2;
    private static readonly long HighestMicros = (long)Highest.TotalMicroseconds;

    private readonly Recorder _recorder = new(LowestMicros, HighestMicros, SignificantDigits,
        static (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));

    private readonly TimeProvider _time;
    private readonly LongHistogram[] _slots;
    private readonly long[] _slotSeconds;
    private readonly LongHistogram _merged = new(LowestMicros, HighestMicros, SignificantDigits);
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private HistogramBase? _interval;

    public LatencyWindow(TimeProvider time, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromSeconds(1));
        _time = time;
        Window = window;
        var slots = (int)Math.Ceiling(window.TotalSeconds);
        _slots = new LongHistogram[slots];
        _slotSeconds = new long[slots];
        for (var i = 0; i < slots; i++)
        {
            _slots[i] = new LongHistogram(LowestMicros, HighestMicros, SignificantDigits);
            _slotSeconds[i] = long.MinValue;
        }

        _timer = time.CreateTimer(static state => ((LatencyWindow)state!).Harvest(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>How far back <see cref="Summarize"/> looks.</summary>
    public TimeSpan Window { get; }

    /// <summary>Records one latency. Wait-free; safe from any number of threads.</summary>
    public void Record(TimeSpan latency) =>
        _recorder.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, LowestMicros, HighestMicros));

    /// <summary>The count, median, 95th and 99th percentiles and maximum of the values in the window.</summary>
    public LatencySummary Summarize()
    {
        lock (_gate)
        {
            HarvestLocked();
            var current = CurrentSecond();
            _merged.Reset();
            for (var i = 0; i < _slots.Length; i++)
            {
                if (current - _slotSeconds[i] < _slots.Length)
                {
                    _merged.Add(_slots[i]);
                }
            }

            if (_merged.TotalCount == 0)
            {
                return default;
            }

            return new LatencySummary(
                _merged.TotalCount,
                Micros(_merged.GetValueAtPercentile(50)),
                Micros(_merged.GetValueAtPercentile(95)),
                Micros(_merged.GetValueAtPercentile(99)),
                Micros(_merged.GetMaxValue()));
        }
    }

    public void Dispose() => _timer.Dispose();

    private static TimeSpan Micros(long micros) => TimeSpan.FromMicroseconds(micros);

    private long CurrentSecond() => _time.GetTimestamp() / _time.TimestampFrequency;

    private void Harvest()
    {
        lock (_gate)
        {
            HarvestLocked();
        }
    }

    private void HarvestLocked()
    {
        _interval = _interval is null ? _recorder.GetIntervalHistogram() : _recorder.GetIntervalHistogram(_interval);
        if (_interval.TotalCount == 0)
        {
            return;
        }

        var second = CurrentSecond();
        var slot = (int)(second % _slots.Length);
        if (_slotSeconds[slot] != second)
        {
            _slots[slot].Reset();
            _slotSeconds[slot] = second;
        }

        _slots[slot].Add(_interval);
    }
}

/// <summary>Latencies of a <see cref="LatencyWindow"/>; all zero when nothing was recorded in the window.</summary>
/// <param name="Count">How many values the window holds.</param>
/// <param name="P50">The median.</param>
/// <param name="P95">The 95th percentile.</param>
/// <param name="P99">The 99th percentile.</param>
/// <param name="Max">The largest value.</param>
public readonly record struct LatencySummary(long Count, TimeSpan P50, TimeSpan P95, TimeSpan P99, TimeSpan Max);
