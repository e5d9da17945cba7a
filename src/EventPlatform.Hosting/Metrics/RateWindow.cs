namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// The rate of an ever-growing total over the recent past (by default the last 60 s), for the
/// <c>..._per_second</c> fields of the service metrics.
/// </summary>
/// <remarks>
/// The total is read once a second into a ring of samples; the rate is the growth since the
/// oldest sample still inside the window, divided by the time between. Whoever increments the
/// total pays nothing here: no lock and no extra write per event. While the service is younger
/// than the window, the rate is over its whole life. Thread-safe.
/// </remarks>
public sealed class RateWindow : IDisposable
{
    private readonly Func<long> _read;
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private readonly (long Timestamp, long Value)[] _samples;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private int _next;
    private int _count;

    /// <param name="read">Reads the current total (called once a second and on every <see cref="PerSecond"/>).</param>
    /// <param name="time">The clock.</param>
    /// <param name="window">How far back the rate looks; whole seconds, at least one.</param>
    public RateWindow(Func<long> read, TimeProvider time, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromSeconds(1));
        _read = read;
        _time = time;
        Window = window;
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _samples = new (long, long)[(int)Math.Ceiling(window.TotalSeconds) + 1];
        Sample();
        _timer = time.CreateTimer(static state => ((RateWindow)state!).Sample(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>How far back <see cref="PerSecond"/> looks.</summary>
    public TimeSpan Window { get; }

    /// <summary>The growth of the total per second over the window (0 when no time has passed).</summary>
    public double PerSecond()
    {
        var now = _time.GetTimestamp();
        var current = _read();
        lock (_gate)
        {
            // The oldest sample that is still inside the window; the ring is in time order from _next.
            for (var i = 0; i < _count; i++)
            {
                var index = (_next - _count + i + _samples.Length) % _samples.Length;
                var (timestamp, value) = _samples[index];
                var elapsed = now - timestamp;
                if (elapsed <= _windowTicks)
                {
                    return elapsed <= 0 ? 0 : (current - value) * (double)_time.TimestampFrequency / elapsed;
                }
            }

            return 0;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var sample = (_time.GetTimestamp(), _read());
        lock (_gate)
        {
            _samples[_next] = sample;
            _next = (_next + 1) % _samples.Length;
            _count = Math.Min(_count + 1, _samples.Length);
        }
    }
}
