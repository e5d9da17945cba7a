using System.Text;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Time;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

/// <summary>
/// The scale-out split in memory: routing (stage 1) and one window instance per repartition
/// partition (stage 2), with every source partition's event time told to every partition after
/// each record, write exactly what the whole job writes, late records included.
/// </summary>
public sealed class StageSplitProperties
{
    private static readonly TestJobs.Topics Topics = TestJobs.Topics.Named("split");
    private static readonly WatermarkOptions Watermarks = new() { MaxOutOfOrderness = TimeSpan.FromSeconds(10) };

    private static List<SourceRecord> Input(int seed, int count)
    {
        var random = new Random(seed);
        var offsets = new long[3];
        var time = 1_000_000L;
        var records = new List<SourceRecord>(count);
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 3_000);
            var partition = random.Next(3);
            // Up to 30 s out of order under a 10 s bound: some records are late.
            var value = random.Next(20) == 0 ? "!bad" : "k" + random.Next(6);
            records.Add(TestJobs.Record(Topics.Input, partition, offsets[partition]++, value, time - random.Next(0, 30_000)));
        }
        return records;
    }

    private static List<string> Canonical(IEnumerable<OutputRecord> records) =>
        [.. records.Select(r => $"{r.Topic} {Encoding.UTF8.GetString(r.Key ?? [])} {Encoding.UTF8.GetString(r.Value)} {r.Timestamp}").Order(StringComparer.Ordinal)];

    [Property(MaxTest = 100)]
    public Property Routing_and_per_partition_windows_write_what_the_whole_job_writes() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 7).ToArbitrary(), (seed, partitions) =>
        {
            var job = TestJobs.CountPerMinute(Topics);
            var input = Input(seed, 300);
            var whole = LocalJobRunner.Run(job, input, Watermarks);

            var output = new ListOutput();
            var router = new JobInstance(job, output, Watermarks, TimeProvider.System, new StagePlan(JobStage.Route, partitions, 0));
            var tasks = Enumerable.Range(0, partitions)
                .Select(p => new JobInstance(job, output, Watermarks, TimeProvider.System, new StagePlan(JobStage.Windows, partitions, p)))
                .ToList();
            var sources = input.Select(r => new SourcePartition(r.Topic, r.Partition)).Distinct().ToList();
            foreach (var task in tasks)
            {
                sources.ForEach(task.AddPartition);
            }
            foreach (var record in input)
            {
                router.Routes.Clear();
                router.Process(record);
                foreach (var p in router.Routes)
                {
                    tasks[p].Process(record);
                }
                var source = new SourcePartition(record.Topic, record.Partition);
                router.TryGetMaxEventTime(source, out var max);
                foreach (var task in tasks)
                {
                    task.ObserveUpstream(source, max);
                    task.AdvanceWatermark();
                }
            }
            tasks.ForEach(t => t.EndOfInput());

            return Canonical(output.Records).SequenceEqual(Canonical(whole));
        });

    [Fact]
    public void The_generated_input_has_late_and_invalid_records_for_the_split_to_get_right()
    {
        var whole = LocalJobRunner.Run(TestJobs.CountPerMinute(Topics), Input(1, 300), Watermarks);

        Assert.Contains(whole, r => r.Topic == Topics.Late);
        Assert.Contains(whole, r => r.Topic == Topics.Invalid);
    }

    [Fact]
    public void A_window_that_reads_another_window_is_refused_when_split()
    {
        var job = new StreamJob("nested");
        var counts = job.Source(Topics.Input, r => r, (r, _) => r.Timestamp)
            .KeyBy(r => r.Topic)
            .Window(new Operators.WindowDefinition(Windows.WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), Operators.LateDataPolicy.Drop))
            .Aggregate(new Aggregation.CountAggregate<SourceRecord>(), State.StateSerializers.Int64);
        counts.KeyBy(r => r.Key)
            .Window(new Operators.WindowDefinition(Windows.WindowAssigner.Tumbling(TimeSpan.FromMinutes(5)), Operators.LateDataPolicy.Drop))
            .Aggregate(new Aggregation.CountAggregate<Operators.WindowResult<string, long>>(), State.StateSerializers.Int64);

        Assert.Throws<NotSupportedException>(() =>
            new JobInstance(job, new ListOutput(), Watermarks, TimeProvider.System, new StagePlan(JobStage.Windows, 2, 0)));
    }
}
