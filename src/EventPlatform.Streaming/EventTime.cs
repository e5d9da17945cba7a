namespace EventPlatform.Streaming;

/// <summary>
/// The range of event times (epoch milliseconds) the engine accepts. Kept well inside
/// <see cref="long"/> so that window bounds, lateness and watermark arithmetic never overflow:
/// ±2^53 ms is about ±285,000 years, far beyond any real event.
/// </summary>
public static class EventTime
{
    /// <summary>The smallest accepted event timestamp, -2^53 ms.</summary>
    public const long MinTimestamp = -(1L << 53);

    /// <summary>The largest accepted event timestamp, 2^53 ms.</summary>
    public const long MaxTimestamp = 1L << 53;

    /// <summary>The longest accepted window size, slide, gap, bound or lateness, 2^53 ms.</summary>
    public const long MaxDurationMilliseconds = 1L << 53;

    /// <summary>The watermark before any record: nothing is complete yet.</summary>
    public const long NoWatermark = long.MinValue;

    /// <summary>Throws when <paramref name="timestamp"/> is outside the accepted range.</summary>
    public static void EnsureInRange(long timestamp, string? parameterName = null)
    {
        if (timestamp is < MinTimestamp or > MaxTimestamp)
        {
            throw new ArgumentOutOfRangeException(parameterName ?? nameof(timestamp), timestamp,
                $"Event time must lie within [{MinTimestamp}, {MaxTimestamp}] ms.");
        }
    }

    /// <summary>
    /// Converts a configured duration to whole milliseconds, refusing fractions (a window of
    /// 1.5 ms cannot be represented on a millisecond axis) and values outside the accepted range.
    /// </summary>
    public static long ToMilliseconds(TimeSpan duration, string parameterName, bool allowZero = false)
    {
        if (duration.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentException("The duration must be a whole number of milliseconds.", parameterName);
        }
        var milliseconds = duration.Ticks / TimeSpan.TicksPerMillisecond;
        var lowest = allowZero ? 0 : 1;
        if (milliseconds < lowest || milliseconds > MaxDurationMilliseconds)
        {
            throw new ArgumentOutOfRangeException(parameterName, duration,
                $"The duration must lie within [{lowest}, {MaxDurationMilliseconds}] ms.");
        }
        return milliseconds;
    }

    /// <summary>Floor modulo: the result has the sign of <paramref name="divisor"/> (always ≥ 0 here).</summary>
    internal static long FloorMod(long value, long divisor)
    {
        var remainder = value % divisor;
        return remainder < 0 ? remainder + divisor : remainder;
    }
}
