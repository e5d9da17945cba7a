using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Windows;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

public class SessionWindowProperties
{
    [Property(MaxTest = 200)]
    public void Sessions_equal_a_split_of_each_key_s_events_on_gaps_of_at_least_the_gap(int seed)
    {
        var random = new Random(seed);
        var gap = 1 + random.Next(200);
        var bound = (long)random.Next(0, 300);
        var events = RandomStreams.Events(random, maxCount: 150, baseTime: random.NextInt64(-5_000, 5_000), span: 4_000);
        var assigner = WindowAssigner.Session(TimeSpan.FromMilliseconds(gap));
        var harness = new Harness(new WindowDefinition(assigner, LateDataPolicy.Drop), bound, partitions: 1 + random.Next(3));

        harness.FeedAll(RandomStreams.ArrivalWithinBound(random, events, bound));
        harness.Finish();

        var expected = new Dictionary<(string, WindowIdentity), Aggregation.AggregatedReadings>();
        foreach (var byKey in events.GroupBy(e => e.Key))
        {
            var session = new List<TestEvent>();
            foreach (var e in byKey.OrderBy(e => e.Timestamp))
            {
                if (session.Count > 0 && e.Timestamp - session[^1].Timestamp >= gap)
                {
                    Close(byKey.Key, session);
                }
                session.Add(e);
            }
            Close(byKey.Key, session);
        }

        void Close(string key, List<TestEvent> session)
        {
            var window = new TimeWindow(session[0].Timestamp, session[^1].Timestamp + gap);
            expected[(key, assigner.Identify(window))] = Reference.Aggregate(session);
            session.Clear();
        }

        Assert.Equal(0, harness.Operator.DroppedLateCount);
        Assert.All(harness.Output.Results, r => Assert.False(r.IsUpdate));
        Assert.Equal(expected.Count, harness.Output.Results.Count);
        foreach (var result in harness.Output.Results)
        {
            Reference.AssertClose(expected[(result.Key, result.Window)], result.Result);
        }
    }

    [Fact]
    public void A_record_between_two_sessions_merges_them()
    {
        var harness = new Harness(new WindowDefinition(WindowAssigner.Session(TimeSpan.FromMilliseconds(10)), LateDataPolicy.Drop), boundMs: 100);
        harness.Feed(new TestEvent(0, "k", 0, 1, "a"));
        harness.Feed(new TestEvent(1, "k", 15, 2, "b"));
        Assert.Equal(2, harness.Operator.WindowCount);

        harness.Feed(new TestEvent(2, "k", 7, 3, "a"));
        harness.Finish();

        var result = Assert.Single(harness.Output.Results);
        Assert.Equal(new TimeWindow(0, 25), result.Window.Window);
        Assert.Equal(new Aggregation.AggregatedReadings(3, 6, 2, 1, 3, 2), result.Result);
    }

    [Fact]
    public void Touching_sessions_stay_apart_because_the_first_may_already_have_fired()
    {
        var harness = new Harness(new WindowDefinition(WindowAssigner.Session(TimeSpan.FromMilliseconds(10)), LateDataPolicy.Drop), boundMs: 100);
        harness.Feed(new TestEvent(0, "k", 0, 1, null));
        harness.Feed(new TestEvent(1, "k", 10, 1, null));
        harness.Finish();

        Assert.Equal([new TimeWindow(0, 10), new TimeWindow(10, 20)], harness.Output.Results.Select(r => r.Window.Window));
    }

    [Fact]
    public void A_late_record_that_bridges_fired_sessions_is_emitted_as_an_update_of_the_merged_session()
    {
        var harness = new Harness(new WindowDefinition(WindowAssigner.Session(TimeSpan.FromMilliseconds(10)), LateDataPolicy.Update(TimeSpan.FromSeconds(1))), boundMs: 0);
        harness.Feed(new TestEvent(0, "k", 0, 1, null));
        harness.Feed(new TestEvent(1, "k", 15, 1, null));
        harness.Feed(new TestEvent(2, "k", 100, 1, null));
        Assert.Equal(2, harness.Output.Results.Count);

        harness.Feed(new TestEvent(3, "k", 8, 1, null));

        var update = harness.Output.Results[^1];
        Assert.True(update.IsUpdate);
        Assert.Equal(new TimeWindow(0, 25), update.Window.Window);
        Assert.Equal(3, update.Result.Count);
    }
}
