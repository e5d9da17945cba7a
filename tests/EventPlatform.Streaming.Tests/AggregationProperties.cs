using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Windows;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

public class AggregationProperties
{
    // Feature: kafka-event-streaming-platform, Property 9: Aggregation computation correctness
    // For any window of events, the computed aggregations (count, sum, average) should match the
    // mathematical result of applying those operations to all events in the window.
    [Property(MaxTest = 200)]
    public void Property_9_emitted_results_equal_a_plain_group_by_key_and_window(int seed)
    {
        var random = new Random(seed);
        var assigner = RandomStreams.TumblingOrSliding(random);
        var bound = (long)random.Next(0, 300);
        var baseTime = random.NextInt64(-5_000, 5_000);
        var events = RandomStreams.Events(random, maxCount: 150, baseTime, span: 3_000);
        var harness = new Harness(new WindowDefinition(assigner, LateDataPolicy.Drop), bound, partitions: 1 + random.Next(3));

        harness.FeedAll(RandomStreams.ArrivalWithinBound(random, events, bound));
        harness.Finish();

        var expected = events
            .SelectMany(e => Reference.WindowsContaining(e.Timestamp, assigner.Size, assigner.Slide, assigner.Offset).Select(w => (e.Key, Window: assigner.Identify(w), Event: e)))
            .GroupBy(x => (x.Key, x.Window))
            .ToDictionary(g => g.Key, g => Reference.Aggregate(g.Select(x => x.Event).ToList()));
        var results = harness.Output.Results;
        Assert.Equal(0, harness.Operator.DroppedLateCount);
        Assert.Empty(harness.Output.Late);
        Assert.All(results, r => Assert.False(r.IsUpdate));
        Assert.Equal(expected.Count, results.Count);
        foreach (var result in results)
        {
            Reference.AssertClose(expected[(result.Key, result.Window)], result.Result);
        }
        // Deterministic order: by window end, then key, then start.
        var order = results.Select(r => (r.Window.Window.End, r.Key, r.Window.Window.Start)).ToList();
        Assert.Equal(order.OrderBy(o => o.End).ThenBy(o => o.Key, StringComparer.Ordinal).ThenBy(o => o.Start), order);
        Assert.Equal(0, harness.Operator.WindowCount);
    }

    [Property(MaxTest = 100)]
    public void A_replay_of_the_same_input_produces_identical_output(int seed)
    {
        var random = new Random(seed);
        var assigner = RandomStreams.TumblingOrSliding(random);
        var arrival = RandomStreams.ArrivalWithinBound(random, RandomStreams.Events(random, 100, 0, 2_000), 50);

        List<WindowResult<string, Aggregation.AggregatedReadings>> Run()
        {
            var harness = new Harness(new WindowDefinition(assigner, LateDataPolicy.Drop), 50);
            harness.FeedAll(arrival);
            harness.Finish();
            return harness.Output.Results;
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void A_window_fires_when_the_watermark_reaches_its_last_timestamp_and_not_before()
    {
        var output = new WindowOutputBuffer<string, int, long>();
        var op = new KeyedWindowOperator<string, int, long, long>(
            new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMilliseconds(10)), LateDataPolicy.Drop), new CountFunction(), output);
        op.Process("a", 3, 1);

        op.AdvanceWatermark(8);
        Assert.Empty(output.Results);

        op.AdvanceWatermark(9);
        var result = Assert.Single(output.Results);
        Assert.Equal(new TimeWindow(0, 10), result.Window.Window);
        Assert.Equal(1, result.Result);
        Assert.Equal(0, op.WindowCount);
    }

    [Fact]
    public void Windows_without_values_report_null_sum_average_min_and_max()
    {
        var harness = new Harness(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromSeconds(1)), LateDataPolicy.Drop), 0);
        harness.Feed(new TestEvent(1, "k", 10, null, "u1"));
        harness.Feed(new TestEvent(2, "k", 20, double.NaN, "u1"));
        harness.Finish();

        var result = Assert.Single(harness.Output.Results).Result;
        Assert.Equal(new Aggregation.AggregatedReadings(2, null, null, null, null, 1), result);
    }

    private sealed class CountFunction : IAggregateFunction<int, long, long>
    {
        public long CreateAccumulator() => 0;

        public long Add(long accumulator, int input) => accumulator + 1;

        public long Merge(long first, long second) => first + second;

        public long GetResult(long accumulator) => accumulator;
    }
}
