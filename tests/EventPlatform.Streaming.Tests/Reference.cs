using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Streaming.Tests;

/// <summary>A test event with an id, so that each input can be traced to its outcome.</summary>
public sealed record TestEvent(int Id, string Key, long Timestamp, double? Value, string? User);

/// <summary>The seed's aggregator over test events.</summary>
public sealed class TestEventAggregator(int? hyperLogLogPrecision = null) : IAggregateFunction<TestEvent, ReadingAccumulator, AggregatedReadings>
{
    private readonly EventAggregator _inner = new(hyperLogLogPrecision);

    public ReadingAccumulator CreateAccumulator() => _inner.CreateAccumulator();

    public ReadingAccumulator Add(ReadingAccumulator accumulator, TestEvent input) => _inner.Add(accumulator, new Reading(input.Value, input.User));

    public ReadingAccumulator Merge(ReadingAccumulator first, ReadingAccumulator second) => _inner.Merge(first, second);

    public AggregatedReadings GetResult(ReadingAccumulator accumulator) => _inner.GetResult(accumulator);
}

/// <summary>Plain computations the engine is checked against.</summary>
public static class Reference
{
    /// <summary>
    /// Every window of the grid (starts at offset + k·slide, k any integer) that contains t,
    /// found by scanning k over a generous range in 128-bit arithmetic.
    /// </summary>
    public static List<TimeWindow> WindowsContaining(long timestamp, long size, long slide, long offset)
    {
        Int128 t = timestamp;
        var kAround = Int128.DivRem(t - offset, slide).Quotient;
        var span = (size / slide) + 2;
        var found = new List<TimeWindow>();
        for (var k = kAround - span; k <= kAround + span; k++)
        {
            var start = offset + (k * slide);
            if (start <= t && t < start + size)
            {
                found.Add(new TimeWindow((long)start, (long)(start + size)));
            }
        }
        return found;
    }

    /// <summary>The seed's aggregation over a group, computed plainly.</summary>
    public static AggregatedReadings Aggregate(IReadOnlyCollection<TestEvent> events)
    {
        var values = events.Where(e => e.Value is { } v && double.IsFinite(v)).Select(e => e.Value!.Value).ToList();
        var distinct = events.Where(e => e.User is not null).Select(e => e.User).Distinct(StringComparer.Ordinal).Count();
        return values.Count == 0
            ? new AggregatedReadings(events.Count, null, null, null, null, distinct)
            : new AggregatedReadings(events.Count, values.Sum(), values.Average(), values.Min(), values.Max(), distinct);
    }

    /// <summary>Asserts equality, with sums and averages compared to a relative tolerance.</summary>
    public static void AssertClose(AggregatedReadings expected, AggregatedReadings actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.DistinctUsers, actual.DistinctUsers);
        Assert.Equal(expected.Min, actual.Min);
        Assert.Equal(expected.Max, actual.Max);
        AssertClose(expected.Sum, actual.Sum);
        AssertClose(expected.Average, actual.Average);
    }

    private static void AssertClose(double? expected, double? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is { } e && actual is { } a)
        {
            Assert.True(Math.Abs(e - a) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"expected {e}, got {a}");
        }
    }
}

/// <summary>Random event streams from a seed, so a failing case replays exactly.</summary>
public static class RandomStreams
{
    public static List<TestEvent> Events(Random random, int maxCount, long baseTime, long span)
    {
        var count = random.Next(maxCount + 1);
        var keys = 1 + random.Next(4);
        var events = new List<TestEvent>(count);
        for (var i = 0; i < count; i++)
        {
            double? value = random.Next(5) == 0 ? null : Math.Round((random.NextDouble() * 2000) - 1000, 2);
            var user = random.Next(4) == 0 ? null : $"user-{random.Next(10)}";
            events.Add(new TestEvent(i, $"key-{random.Next(keys)}", baseTime + random.NextInt64(span), value, user));
        }
        return events;
    }

    /// <summary>
    /// An arrival order in which every event arrives before any event more than
    /// <paramref name="bound"/> ms newer: sort by timestamp plus a jitter in [0, bound].
    /// </summary>
    public static List<TestEvent> ArrivalWithinBound(Random random, List<TestEvent> events, long bound) =>
        events.Select(e => (Event: e, Arrival: e.Timestamp + random.NextInt64(bound + 1), Tie: random.Next()))
            .OrderBy(x => x.Arrival).ThenBy(x => x.Tie).Select(x => x.Event).ToList();

    /// <summary>A random tumbling or sliding definition with modest sizes.</summary>
    public static WindowAssigner TumblingOrSliding(Random random)
    {
        var slide = 1 + random.Next(500);
        var offset = random.Next(-1000, 1000);
        return random.Next(2) == 0
            ? WindowAssigner.Tumbling(TimeSpan.FromMilliseconds(slide), TimeSpan.FromMilliseconds(offset))
            : WindowAssigner.Sliding(TimeSpan.FromMilliseconds(slide * (1 + random.Next(5))), TimeSpan.FromMilliseconds(slide), TimeSpan.FromMilliseconds(offset));
    }
}
