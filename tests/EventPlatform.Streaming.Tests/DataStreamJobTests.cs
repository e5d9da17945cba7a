using System.Globalization;
using System.Text;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Time;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

/// <summary>The DataStream API run in memory: the graph, side outputs, late output and state.</summary>
public sealed class DataStreamJobTests
{
    private static readonly TestJobs.Topics Topics = TestJobs.Topics.Named("t");

    private static Dictionary<string, long> LastPerKey(IEnumerable<OutputRecord> records, string topic) =>
        records.Where(r => r.Topic == topic)
            .GroupBy(r => Encoding.UTF8.GetString(r.Key!))
            .ToDictionary(g => g.Key, g => long.Parse(Encoding.UTF8.GetString(g.Last().Value), CultureInfo.InvariantCulture));

    [Fact]
    public void Counts_per_key_and_minute_reach_the_output_keyed_by_key_and_window()
    {
        var input = new (string, long)[] { ("a", 1_000), ("b", 2_000), ("a", 59_999), ("a", 60_000), ("b", 125_000) };
        var records = input.Select((r, i) => TestJobs.Record(Topics.Input, 0, i, r.Item1, r.Item2));

        var output = LocalJobRunner.Run(TestJobs.CountPerMinute(Topics), records);

        Assert.Equal(
            new Dictionary<string, long>
            {
                ["a|tumbling(60000ms)[0,60000)"] = 2,
                ["b|tumbling(60000ms)[0,60000)"] = 1,
                ["a|tumbling(60000ms)[60000,120000)"] = 1,
                ["b|tumbling(60000ms)[120000,180000)"] = 1,
            },
            LastPerKey(output, Topics.Output));
        Assert.All(output.Where(r => r.Topic == Topics.Output), r => Assert.Equal(59_999, r.Timestamp % 60_000));
    }

    [Fact]
    public void Invalid_records_go_to_their_side_output_and_late_records_to_the_late_output()
    {
        var records = new[]
        {
            TestJobs.Record(Topics.Input, 0, 0, "a", 0),
            TestJobs.Record(Topics.Input, 0, 1, "!broken", 5_000),
            TestJobs.Record(Topics.Input, 0, 2, "a", 200_000),
            TestJobs.Record(Topics.Input, 0, 3, "a", 1_000),
        };

        var output = LocalJobRunner.Run(TestJobs.CountPerMinute(Topics), records);

        var invalid = Assert.Single(output, r => r.Topic == Topics.Invalid);
        Assert.Equal("!broken", Encoding.UTF8.GetString(invalid.Value));
        Assert.Equal(5_000, invalid.Timestamp);
        var late = Assert.Single(output, r => r.Topic == Topics.Late);
        Assert.Equal(1_000, late.Timestamp);
    }

    [Fact]
    public void Two_windows_on_one_keyed_stream_each_emit_their_own_results()
    {
        var job = new StreamJob("two-windows");
        var keyed = job.Source("in", r => Encoding.UTF8.GetString(r.Value), (_, r) => r.Timestamp).KeyBy(v => v);
        keyed.Window(new(Windows.WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), Operators.LateDataPolicy.Drop))
            .Aggregate(new Aggregation.CountAggregate<string>(), State.StateSerializers.Int64)
            .SinkTo("minutes", OutputKeys.ForWindow, r => BitConverter.GetBytes(r.Result));
        keyed.Window(new(Windows.WindowAssigner.Sliding(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1)), Operators.LateDataPolicy.Drop))
            .Aggregate(new Aggregation.CountAggregate<string>(), State.StateSerializers.Int64)
            .SinkTo("sliding", OutputKeys.ForWindow, r => BitConverter.GetBytes(r.Result));

        var output = LocalJobRunner.Run(job, [TestJobs.Record("in", 0, 0, "k", 30_000)]);

        Assert.Single(output, r => r.Topic == "minutes");
        Assert.Equal(2, output.Count(r => r.Topic == "sliding"));
    }

    [Fact]
    public void A_source_of_several_topics_holds_the_watermark_until_every_partition_of_every_topic_has_moved()
    {
        var job = new StreamJob("two-topics");
        job.Source(["a", "b"], r => Encoding.UTF8.GetString(r.Value), (_, r) => r.Timestamp)
            .KeyBy(v => v)
            .Window(new(Windows.WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), Operators.LateDataPolicy.Drop))
            .Aggregate(new Aggregation.CountAggregate<string>(), State.StateSerializers.Int64)
            .SinkTo("out", OutputKeys.ForWindow, r => BitConverter.GetBytes(r.Result));
        var early = new[] { TestJobs.Record("a", 0, 0, "k", 1_000), TestJobs.Record("b", 0, 0, "k", 2_000), TestJobs.Record("a", 0, 1, "k", 500_000) };

        var held = LocalJobRunner.Run(job, early, endOfInput: false);
        var released = LocalJobRunner.Run(job, [.. early, TestJobs.Record("b", 0, 1, "k", 500_000)], endOfInput: false);

        Assert.Empty(held);
        var result = Assert.Single(released);
        Assert.Equal(2, BitConverter.ToInt64(result.Value));
    }

    [Fact]
    public void A_source_topic_cannot_belong_to_two_sources()
    {
        var job = new StreamJob("dup");
        job.Source("in", r => r, (_, r) => r.Timestamp);

        Assert.Throws<ArgumentException>(() => job.Source(["other", "in"], r => r, (_, r) => r.Timestamp));
    }

    [Fact]
    public void The_fingerprint_changes_with_the_graph_and_the_version_but_not_with_a_rebuild()
    {
        var first = TestJobs.CountPerMinute(Topics).Fingerprint;

        Assert.Equal(first, TestJobs.CountPerMinute(Topics).Fingerprint);
        Assert.NotEqual(first, TestJobs.CountPerMinute(Topics, version: "2").Fingerprint);
        Assert.NotEqual(first, TestJobs.CountPerMinute(Topics, late: Operators.LateDataPolicy.Drop).Fingerprint);
        Assert.NotEqual(first, TestJobs.CountPerMinute(TestJobs.Topics.Named("u")).Fingerprint);
    }

    [Fact]
    public void State_of_another_job_is_refused()
    {
        var job = TestJobs.CountPerMinute(Topics);
        var other = new StreamJob("empty");
        other.Source("x", r => r, (_, r) => r.Timestamp).SinkTo("y", r => r.Key, r => r.Value);
        var state = new JobInstance(other, new ListOutput(), new WatermarkOptions(), TimeProvider.System).WriteState();

        Assert.Throws<State.SnapshotFormatException>(() =>
            new JobInstance(job, new ListOutput(), new WatermarkOptions(), TimeProvider.System).RestoreState(state));
    }

    // Feature: kafka-event-streaming-platform, Property 9: Window aggregation correctness
    // A checkpoint taken anywhere, restored into a new instance that replays from its offsets,
    // ends with the same last result per output key as one run without a checkpoint, and no
    // window is missing: the replay argument the Kafka runtime rests on.
    [Property(MaxTest = 100)]
    public void A_job_restored_from_a_checkpoint_anywhere_ends_as_one_uninterrupted_run(NonNegativeInt[] times, PositiveInt cut, PositiveInt crashAfter)
    {
        var records = times.Select((t, i) => TestJobs.Record(Topics.Input, i % 2, i / 2, "k" + (t.Get % 3).ToString(CultureInfo.InvariantCulture), t.Get % 400_000)).ToList();
        var job = TestJobs.CountPerMinute(Topics, late: Operators.LateDataPolicy.Drop);
        var clean = LocalJobRunner.Run(job, records);

        var at = records.Count == 0 ? 0 : cut.Get % (records.Count + 1);
        // A checkpoint after `at` records; the instance that took it runs on a little (its output
        // until the crash stays in the topic), then a new one restores it and replays the rest.
        var checkpointInstance = new JobInstance(job, new ListOutput(), new WatermarkOptions(), TimeProvider.System);
        LocalJobRunner.Feed(checkpointInstance, records.Take(at).ToList(), endOfInput: false);
        var state = checkpointInstance.WriteState();
        var combined = new ListOutput();
        var crashed = new JobInstance(job, combined, new WatermarkOptions(), TimeProvider.System);
        LocalJobRunner.Feed(crashed, records.Take(Math.Min(records.Count, at + (crashAfter.Get % 5))).ToList(), endOfInput: false);
        var restored = new JobInstance(job, combined, new WatermarkOptions(), TimeProvider.System);
        foreach (var partition in records.Select(r => new SourcePartition(r.Topic, r.Partition)).Distinct())
        {
            restored.AddPartition(partition);
        }
        restored.RestoreState(state);
        LocalJobRunner.Feed(restored, records.Skip(at).ToList(), endOfInput: true);

        Assert.Equal(LastPerKey(clean, Topics.Output), LastPerKey(combined.Records, Topics.Output));
    }
}
