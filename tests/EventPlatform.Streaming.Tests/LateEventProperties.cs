using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Windows;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

public class LateEventProperties
{
    private const long Bound = 100;

    // Feature: kafka-event-streaming-platform, Property 10: Late event handling
    // For any event arriving after the watermark has passed its timestamp, the Stream Processor
    // should handle the event according to the configured policy (drop, include in late results,
    // or update existing window).
    [Property(MaxTest = 200)]
    public void Property_10_drop_keeps_late_events_out_of_results_and_counts_them(int seed)
    {
        var scenario = Scenario.Create(seed, LateDataPolicy.Drop);

        scenario.Run();

        Assert.Empty(scenario.Harness.Output.Late);
        Assert.Equal(scenario.LatePairs.Count, scenario.Harness.Operator.DroppedLateCount);
        scenario.AssertFinalResultsMatch(scenario.OnTimePairs);
        Assert.All(scenario.Harness.Output.Results, r => Assert.False(r.IsUpdate));
        scenario.AssertNothingLost();
    }

    // Feature: kafka-event-streaming-platform, Property 10: Late event handling
    // For any event arriving after the watermark has passed its timestamp, the Stream Processor
    // should handle the event according to the configured policy (drop, include in late results,
    // or update existing window).
    [Property(MaxTest = 200)]
    public void Property_10_side_output_receives_exactly_the_late_events(int seed)
    {
        var scenario = Scenario.Create(seed, LateDataPolicy.SideOutput);

        scenario.Run();

        Assert.Equal(0, scenario.Harness.Operator.DroppedLateCount);
        AssertSameSlots(scenario.LatePairs, scenario.Harness.Output.Late);
        Assert.All(scenario.Harness.Output.Late, l => Assert.Equal(LateReason.WindowFired, l.Reason));
        scenario.AssertFinalResultsMatch(scenario.OnTimePairs);
        scenario.AssertNothingLost();
    }

    // Feature: kafka-event-streaming-platform, Property 10: Late event handling
    // For any event arriving after the watermark has passed its timestamp, the Stream Processor
    // should handle the event according to the configured policy (drop, include in late results,
    // or update existing window).
    [Property(MaxTest = 200)]
    public void Property_10_update_includes_late_events_within_allowed_lateness_and_sets_the_rest_aside(int seed)
    {
        var lateness = new Random(~seed).Next(0, 1500);
        var scenario = Scenario.Create(seed, LateDataPolicy.Update(TimeSpan.FromMilliseconds(lateness)));

        scenario.Run();

        var accepted = scenario.LatePairs.Where(p => p.WatermarkBefore < p.Window.Window.MaxTimestamp + lateness).ToList();
        var refused = scenario.LatePairs.Except(accepted).ToList();
        scenario.AssertFinalResultsMatch(scenario.OnTimePairs.Concat(accepted));
        AssertSameSlots(refused, scenario.Harness.Output.Late);
        Assert.All(scenario.Harness.Output.Late, l => Assert.Equal(LateReason.BeyondAllowedLateness, l.Reason));
        Assert.Equal(0, scenario.Harness.Operator.DroppedLateCount);
        foreach (var firings in scenario.Harness.Output.Results.GroupBy(r => (r.Key, r.Window)))
        {
            Assert.Equal([false, .. Enumerable.Repeat(true, firings.Count() - 1)], firings.Select(r => r.IsUpdate));
        }
        scenario.AssertNothingLost();
    }

    [Property(MaxTest = 150)]
    public void Session_windows_lose_no_event_under_drop_or_side_output(int seed, bool sideOutput)
    {
        var random = new Random(seed);
        var gap = 1 + random.Next(200);
        var events = RandomStreams.Events(random, maxCount: 120, baseTime: 0, span: 3_000);
        var arrival = events
            .Select(e => (Event: e, Arrival: e.Timestamp + (random.Next(5) == 0 ? Bound + random.Next(1, 2_000) : random.NextInt64(Bound + 1))))
            .OrderBy(x => x.Arrival).ThenBy(x => x.Event.Id).Select(x => x.Event).ToList();
        var policy = sideOutput ? LateDataPolicy.SideOutput : LateDataPolicy.Drop;
        var harness = new Harness(new WindowDefinition(WindowAssigner.Session(TimeSpan.FromMilliseconds(gap)), policy), Bound);

        harness.FeedAll(arrival);
        harness.Finish();

        Assert.All(harness.Output.Results, r => Assert.False(r.IsUpdate));
        var inResults = harness.Output.Results.Sum(r => r.Result.Count);
        Assert.Equal(events.Count, inResults + harness.Output.Late.Count + harness.Operator.DroppedLateCount);
        Assert.Equal(0, sideOutput ? harness.Operator.DroppedLateCount : harness.Output.Late.Count);
    }

    [Fact]
    public void A_late_record_within_allowed_lateness_for_a_window_that_never_had_one_is_its_first_firing()
    {
        var harness = new Harness(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMilliseconds(10)), LateDataPolicy.Update(TimeSpan.FromMilliseconds(50))), boundMs: 0);
        harness.Feed(new TestEvent(0, "a", 25, 1, null));
        Assert.Equal(24, harness.Operator.Watermark);

        harness.Feed(new TestEvent(1, "b", 5, 1, null));
        harness.Feed(new TestEvent(2, "b", 6, 1, null));

        Assert.Equal([false, true], harness.Output.Results.Select(r => r.IsUpdate));
        Assert.Equal(2, harness.Output.Results[^1].Result.Count);
        harness.Feed(new TestEvent(3, "a", 60, 1, null));
        harness.Feed(new TestEvent(4, "b", 7, 1, null));
        Assert.Equal(LateReason.BeyondAllowedLateness, Assert.Single(harness.Output.Late).Reason);
    }

    private static void AssertSameSlots(List<Pair> expected, List<LateRecord<string, TestEvent>> late)
    {
        Assert.Equal(expected.Count, late.Count);
        Assert.True(expected.Select(p => (p.Event.Id, p.Window)).ToHashSet().SetEquals(late.Select(l => (l.Input.Id, l.Window))), "the same late (event, window) pairs");
    }

    /// <summary>A random stream where about one event in five arrives after the bound.</summary>
    private sealed class Scenario
    {
        private readonly List<TestEvent> _arrival;
        private readonly WindowAssigner _assigner;

        private Scenario(WindowAssigner assigner, List<TestEvent> arrival, Harness harness)
        {
            _assigner = assigner;
            _arrival = arrival;
            Harness = harness;
            var pairs = new List<Pair>();
            var maxSeen = long.MinValue;
            foreach (var e in arrival)
            {
                var watermarkBefore = maxSeen == long.MinValue ? EventTime.NoWatermark : maxSeen - Bound - 1;
                foreach (var window in Reference.WindowsContaining(e.Timestamp, assigner.Size, assigner.Slide, assigner.Offset))
                {
                    pairs.Add(new Pair(e, assigner.Identify(window), watermarkBefore));
                }
                maxSeen = Math.Max(maxSeen, e.Timestamp);
            }
            LatePairs = pairs.Where(p => p.WatermarkBefore >= p.Window.Window.MaxTimestamp).ToList();
            OnTimePairs = pairs.Except(LatePairs).ToList();
        }

        public Harness Harness { get; }

        public List<Pair> LatePairs { get; }

        public List<Pair> OnTimePairs { get; }

        private int TotalPairs => LatePairs.Count + OnTimePairs.Count;

        public static Scenario Create(int seed, LateDataPolicy policy)
        {
            var random = new Random(seed);
            var assigner = RandomStreams.TumblingOrSliding(random);
            var events = RandomStreams.Events(random, maxCount: 120, baseTime: random.NextInt64(-3_000, 3_000), span: 3_000);
            var arrival = events
                .Select(e => (Event: e, Arrival: e.Timestamp + (random.Next(5) == 0 ? Bound + random.Next(1, 2_000) : random.NextInt64(Bound + 1))))
                .OrderBy(x => x.Arrival).ThenBy(x => x.Event.Id).Select(x => x.Event).ToList();
            return new Scenario(assigner, arrival, new Harness(new WindowDefinition(assigner, policy), Bound));
        }

        public void Run()
        {
            Harness.FeedAll(_arrival);
            Harness.Finish();
        }

        public void AssertFinalResultsMatch(IEnumerable<Pair> included)
        {
            var expected = included.GroupBy(p => (p.Event.Key, p.Window))
                .ToDictionary(g => g.Key, g => Reference.Aggregate(g.Select(p => p.Event).ToList()));
            var actual = Harness.FinalResults();
            Assert.Equal(expected.Count, actual.Count);
            Assert.True(expected.Keys.ToHashSet().SetEquals(actual.Keys), "the same (key, window) slots");
            foreach (var (slot, result) in actual)
            {
                Reference.AssertClose(expected[slot], result);
            }
        }

        /// <summary>Every (event, window) pair is in a final result, the late output or the dropped count.</summary>
        public void AssertNothingLost()
        {
            var inResults = Harness.FinalResults().Values.Sum(r => r.Count);
            Assert.Equal(TotalPairs, inResults + Harness.Output.Late.Count + Harness.Operator.DroppedLateCount);
            Assert.Equal(0, Harness.Operator.WindowCount);
        }
    }

    private sealed record Pair(TestEvent Event, WindowIdentity Window, long WatermarkBefore);
}
