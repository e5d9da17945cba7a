using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Time;
using EventPlatform.Streaming.Windows;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>What a job instance reports to the runtime's metrics, and where the runner's meter lives, without a broker.</summary>
public sealed class JobInstrumentationTests
{
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

    private sealed class Recorder : IJobInstrumentation
    {
        public List<long> WindowInputs { get; } = [];

        public List<LateOutcome> Late { get; } = [];

        public void WindowInput(object? element, long eventTime) => WindowInputs.Add(eventTime);

        public void LateRecord(LateOutcome outcome) => Late.Add(outcome);
    }

    [Theory]
    [InlineData("drop", "Dropped,Dropped")]
    [InlineData("side-output", "SideOutput,SideOutput")]
    // Within the allowed minute the window is updated; past it the record goes to the late output.
    [InlineData("update", "Updated,SideOutput")]
    public void Late_records_are_reported_by_what_the_policy_did_with_them(string policy, string expected)
    {
        var topics = TestJobs.Topics.Named("instrumented");
        var late = policy switch
        {
            "drop" => LateDataPolicy.Drop,
            "side-output" => LateDataPolicy.SideOutput,
            _ => LateDataPolicy.Update(TimeSpan.FromMinutes(1)),
        };
        var recorder = new Recorder();
        var instance = new JobInstance(TestJobs.CountPerMinute(topics, late: late), new ListOutput(),
            new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) }, new FakeTimeProvider(), StagePlan.Whole, recorder);
        instance.AddPartition(new SourcePartition(topics.Input, 0));
        long[] times = [Base + 1_000, Base + 120_000, Base + 2_000, Base + 300_000, Base + 3_000, Base + 4_000];
        string[] values = ["k", "k", "k", "k", "k", "!invalid"];

        for (var i = 0; i < times.Length; i++)
        {
            instance.Process(TestJobs.Record(topics.Input, 0, i, values[i], times[i]));
            instance.AdvanceWatermark();
        }

        Assert.Equal(expected, string.Join(',', recorder.Late));
        // Every valid record reaches the window operator once, with its own event time.
        Assert.Equal(times[..5], recorder.WindowInputs);
    }

    [Fact]
    public void An_element_read_by_several_windows_is_measured_once()
    {
        var job = new StreamJob("latency-once");
        var keyed = job.Source("latency-once.in", r => r, (r, _) => r.Timestamp)
            .Map(r => System.Text.Encoding.UTF8.GetString(r.Value))
            .KeyBy(text => text);
        foreach (var size in new[] { 1, 5 })
        {
            keyed.Window(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMinutes(size)), LateDataPolicy.Drop))
                .Aggregate(new Aggregation.CountAggregate<string>(), StateSerializers.Int64)
                .SinkTo("latency-once.out", OutputKeys.ForWindow, r => [(byte)r.Result]);
        }
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(Base + 60_000));
        using var metrics = new JobMetrics(job.Name, null, clock);
        var observed = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "flink_taskmanager_job_task_operator_latency_seconds" && instrument.Meter.Name == KafkaJobRunner.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t.Key == "job_name" && (string?)t.Value == job.Name))
            {
                observed.Add(value);
            }
        });
        listener.Start();
        var instance = new JobInstance(job, new ListOutput(), new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) }, clock, StagePlan.Whole, metrics);
        instance.AddPartition(new SourcePartition("latency-once.in", 0));

        for (var i = 0; i < 4; i++)
        {
            instance.Process(TestJobs.Record("latency-once.in", 0, i, "k" + (i % 2), Base + (i * 1_000)));
        }

        // Two windows read each of the four elements: four observations, each its own delay.
        Assert.Equal([60.0, 59.0, 58.0, 57.0], observed);
    }

    private sealed class ScopedMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options)
        {
            options.Scope = this;
            return new Meter(options);
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void A_runner_measures_on_its_own_meter_scoped_to_the_hosts_factory_which_ends_with_the_runner()
    {
        var factory = new ScopedMeterFactory();
        var published = new ConcurrentBag<string>();
        var completed = new ConcurrentBag<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == KafkaJobRunner.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    published.Add(instrument.Name);
                    l.EnableMeasurementEvents(instrument);
                }
            },
            MeasurementsCompleted = (instrument, _) => completed.Add(instrument.Name),
        };
        listener.Start();
        var job = TestJobs.CountPerMinute(TestJobs.Topics.Named("scoped"), name: "scoped");
        var directory = Path.Combine(Path.GetTempPath(), "scoped-" + Guid.NewGuid().ToString("N"));

        using (new KafkaJobRunner(job, new KafkaJobOptions { BootstrapServers = "127.0.0.1:1" }, FileCheckpointStore.ForJob(directory, job.Name), meters: factory))
        {
            Assert.Contains("flink_taskmanager_job_task_operator_records_consumed_total", published);
            Assert.Contains("stream_job_consumer_lag_records", published);
        }

        Assert.Equal(published.Order(StringComparer.Ordinal), completed.Order(StringComparer.Ordinal));
        Assert.Equal(16, published.Count);
    }
}
