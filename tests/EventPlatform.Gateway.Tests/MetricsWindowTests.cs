using EventPlatform.Hosting.Metrics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>Latency samples in whole microseconds, as the window keeps them.</summary>
public static class LatencyArbitraries
{
    public static Arbitrary<long[]> Latencies() => Arb.From(
        Gen.OneOf(Gen.Choose(1, 2_000), Gen.Choose(1, 60_000_000), Gen.Choose(5_000, 50_000))
            .Select(v => (long)v)
            .NonEmptyListOf()
            .Select(values => values.ToArray()));
}

public sealed class MetricsWindowTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    [Property(MaxTest = 100, Arbitrary = [typeof(LatencyArbitraries)])]
    public bool Window_percentiles_are_the_exact_percentiles_within_one_percent(long[] micros)
    {
        var time = new FakeTimeProvider();
        using var window = new LatencyWindow(time, Window);
        foreach (var value in micros)
        {
            window.Record(TimeSpan.FromMicroseconds(value));
        }

        var summary = window.Summarize();
        var sorted = micros.Order().ToArray();
        return summary.Count == micros.Length
            && Close(summary.P50, NearestRank(sorted, 50))
            && Close(summary.P95, NearestRank(sorted, 95))
            && Close(summary.P99, NearestRank(sorted, 99))
            && Close(summary.Max, sorted[^1]);
    }

    [Fact]
    public void Latencies_older_than_the_window_drop_out()
    {
        var time = new FakeTimeProvider();
        using var window = new LatencyWindow(time, Window);
        window.Record(TimeSpan.FromMilliseconds(500));
        Seconds(time, 30);
        window.Record(TimeSpan.FromMilliseconds(10));
        Seconds(time, 1);

        Assert.Equal(2, window.Summarize().Count);

        Seconds(time, 30);
        var recent = window.Summarize();
        Assert.Equal(1, recent.Count);
        Assert.Equal(10, recent.Max.TotalMilliseconds, 0.1);

        Seconds(time, 31);
        Assert.Equal(default, window.Summarize());
    }

    [Fact]
    public void Latencies_beyond_the_range_count_as_its_highest_value()
    {
        using var window = new LatencyWindow(new FakeTimeProvider(), Window);
        window.Record(TimeSpan.FromMinutes(5));
        window.Record(TimeSpan.Zero);

        var summary = window.Summarize();
        Assert.Equal(2, summary.Count);
        Assert.Equal(LatencyWindow.Highest.TotalSeconds, summary.Max.TotalSeconds, 0.01 * LatencyWindow.Highest.TotalSeconds);
    }

    [Fact]
    public void Rate_is_the_growth_over_the_last_window_or_since_start()
    {
        var time = new FakeTimeProvider();
        long total = 0;
        using var rate = new RateWindow(() => total, time, Window);

        for (var second = 0; second < 10; second++)
        {
            total += 100;
            Seconds(time, 1);
        }

        Assert.Equal(100, rate.PerSecond(), 3);

        // 60 more seconds at 10/s: the first 10 s at 100/s have left the window.
        for (var second = 0; second < 60; second++)
        {
            total += 10;
            Seconds(time, 1);
        }

        Assert.Equal(10, rate.PerSecond(), 3);

        Seconds(time, 120);
        Assert.Equal(0, rate.PerSecond(), 3);
    }

    /// <summary>Lets time pass a second at a time, as it does for the windows' once-a-second timers.</summary>
    private static void Seconds(FakeTimeProvider time, int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>HdrHistogram's rank: the value at or below which ⌊p·n + ½⌋ (at least 1) of the values lie.</summary>
    private static long NearestRank(long[] sorted, double percentile)
    {
        var rank = Math.Max(1, (long)(percentile / 100 * sorted.Length + 0.5));
        return sorted[rank - 1];
    }

    private static bool Close(TimeSpan actual, long expectedMicros) =>
        Math.Abs(actual.TotalMicroseconds - expectedMicros) <= expectedMicros * 0.01 + 1;
}
