using System.Globalization;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>The runner's metrics move as the job works, seen by an in-process MeterListener on the embedded broker.</summary>
public sealed class RuntimeMetricsTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int Partitions = 3;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "metrics-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Records_latency_watermark_late_records_state_checkpoints_lag_back_pressure_and_transactions_are_measured()
    {
        var topics = TestJobs.Topics.Named("metrics");
        foreach (var topic in new[] { topics.Input, topics.Output, topics.Invalid, topics.Late })
        {
            kafka.Cluster.CreateTopic(topic, Partitions, 1);
        }
        var random = new Random(7);
        var input = new List<(int Partition, string Value, long Timestamp)>();
        for (var i = 0; i < 300; i++)
        {
            var value = i % 50 == 7 ? "!bad" : "k" + random.Next(4).ToString(CultureInfo.InvariantCulture);
            input.Add((i % Partitions, value, Base + (i * 1_000L)));
        }
        // Closers move every partition's watermark an hour on.
        input.AddRange(Enumerable.Range(0, Partitions).Select(p => (p, "closer", Base + 3_600_000)));
        await KafkaInput.ProduceAsync(kafka.BootstrapServers, topics.Input, input);
        var job = TestJobs.CountPerMinute(topics, name: "metrics-job");
        using var metrics = new MetricCapture(job.Name);
        var options = new KafkaJobOptions
        {
            BootstrapServers = kafka.BootstrapServers,
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
            // A producer queue of 5 records: the windows fired by the closers must wait for room.
            Kafka = new() { Extra = { ["queue.buffering.max.messages"] = "5" } },
        };
        using var runner = new KafkaJobRunner(job, options, FileCheckpointStore.ForJob(_dataDirectory, job.Name));

        runner.Start();
        await KafkaInput.WaitUntilAsync(() => metrics.Sum("flink_taskmanager_job_task_operator_records_consumed_total") == input.Count, "the input read");
        // Read once every partition is past it: a record for a window that has fired.
        var late = (0, "k1", Base + 5_000L);
        input.Add(late);
        await KafkaInput.ProduceAsync(kafka.BootstrapServers, topics.Input, [late]);
        await KafkaInput.WaitUntilAsync(() => metrics.Sum("stream_job_late_records_total") >= 1 || runner.Completion.IsCompleted, "the late record");
        Assert.Null(runner.Failure);
        await KafkaInput.WaitUntilAsync(() => metrics.Sum("stream_job_checkpoints_total") >= 2, "two checkpoints after it");
        await runner.StopAsync();
        metrics.Observe();

        Assert.Null(runner.Failure);
        Assert.Equal(input.Count, metrics.Sum("flink_taskmanager_job_task_operator_records_consumed_total"));
        var written = 0;
        foreach (var topic in new[] { topics.Output, topics.Invalid, topics.Late })
        {
            written += (await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topic)).Count;
        }
        Assert.Equal(written, metrics.Sum("flink_taskmanager_job_task_operator_records_emitted_total"));
        Assert.True(metrics.Sum("stream_job_backpressure_waits_total") > 0, "the full producer queue was never waited on");

        // Every valid record reaches the window operator once; its event time is years behind the wall clock.
        var latencies = metrics.All("flink_taskmanager_job_task_operator_latency_seconds");
        Assert.Equal(input.Count(r => !r.Value.StartsWith('!')), latencies.Count);
        Assert.All(latencies, l => Assert.True(l.Value > 3600));

        Assert.Equal(1, metrics.Sum("stream_job_late_records_total", ("outcome", "side_output")));
        Assert.Equal(0, metrics.Sum("stream_job_late_records_total", ("outcome", "dropped")));
        Assert.True(metrics.Last("stream_job_watermark_timestamp_seconds") >= (Base + 3_600_000 - 10_001) / 1000.0);
        Assert.True(metrics.Last("stream_job_watermark_lag_seconds") > 0);
        // The closers' own window is open: one window, one key.
        Assert.Equal(1, metrics.Last("stream_job_state_windows"));
        Assert.Equal(1, metrics.Last("stream_job_state_keys"));
        Assert.True(metrics.Last("stream_job_checkpoint_size_bytes") > 0);

        var completed = metrics.Sum("stream_job_checkpoints_total", ("outcome", "completed"));
        Assert.Equal(runner.CheckpointsWritten, completed);
        Assert.Equal(completed, metrics.All("stream_job_checkpoint_duration_seconds").Count);
        Assert.Equal(0, metrics.Sum("stream_job_checkpoints_total", ("outcome", "failed")));
        Assert.True(metrics.Sum("stream_job_transactions_total", ("outcome", "committed")) >= 1);

        // The last gauges were read at the final checkpoint: every partition read to its end.
        var lags = metrics.All("stream_job_consumer_lag_records").TakeLast(Partitions).ToList();
        Assert.Equal(["0", "1", "2"], lags.Select(l => l.Tags["partition"]).Order(StringComparer.Ordinal));
        Assert.All(lags, l => Assert.Equal(0, l.Value));

        // Rates over the last minute: the job read and wrote something in it.
        Assert.True(metrics.Last("flink_taskmanager_job_task_operator_records_consumed_rate") > 0);
        Assert.True(metrics.Last("flink_taskmanager_job_task_operator_records_emitted_rate") > 0);
    }
}
