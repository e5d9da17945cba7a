using System.Diagnostics.Metrics;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Operators;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// A runner's instruments on its own <see cref="Meter"/> (<see cref="KafkaJobRunner.MeterName"/>), every
/// measurement tagged <c>job_name</c> (Flink's label; <c>job</c> would clash with Prometheus' target label).
/// Names are Prometheus names, as the host's exporter publishes them unchanged (see the Streaming README).
/// </summary>
/// <remarks>
/// Counters and histograms are recorded as things happen (thread-safe instruments). Gauges are
/// computed on the consume loop's thread by <see cref="Tick"/> (about once a second and at each
/// checkpoint) into fields that scrapes read, so a scrape never touches the job's state.
/// </remarks>
internal sealed class JobMetrics : IJobInstrumentation, IDisposable
{
    // Flink's per-second rates (MeterView) average over the last 60 s.
    private const int RateWindowSeconds = 60;

    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];
    private static readonly double[] CheckpointBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Meter _meter;
    private readonly TimeProvider _clock;
    private readonly TimeProvider _recordClock;
    private readonly KeyValuePair<string, object?> _job;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _emitted;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _late;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Counter<long> _checkpoints;
    private readonly Counter<long> _backPressure;
    private readonly Counter<long> _transactions;
    private readonly KeyValuePair<string, object?>[] _lateTags;
    private readonly (long Timestamp, long Consumed, long Emitted)[] _samples = new (long, long, long)[RateWindowSeconds + 1];
    private object? _lastWindowInput;
    private long _consumedTotal;
    private long _emittedTotal;
    private int _nextSample;
    private int _sampleCount;
    private long _nextTickTimestamp;
    private double _consumedRate;
    private double _emittedRate;
    private long _watermark = EventTime.NoWatermark;
    private long _windows = -1;
    private long _keys = -1;
    private long _checkpointBytes = -1;
    private volatile PartitionLag[] _lags = [];

    // recordClock: what per-record measurements read (the loop's LoopClock); clock when null.
    public JobMetrics(string jobName, IMeterFactory? meters, TimeProvider clock, TimeProvider? recordClock = null)
    {
        _clock = clock;
        _recordClock = recordClock ?? clock;
        // The runner's own meter (not one cached by the factory), so that its observable gauges end
        // with the runner; the factory as scope makes the host's exporter publish it.
        _meter = new Meter(new MeterOptions(KafkaJobRunner.MeterName) { Scope = meters });
        _job = new KeyValuePair<string, object?>("job_name", jobName);
        _lateTags = [Outcome("dropped"), Outcome("side_output"), Outcome("updated")];
        _consumed = _meter.CreateCounter<long>("flink_taskmanager_job_task_operator_records_consumed_total", "{record}",
            "Records read from the job's source topics; rate() of it is Flink's records_consumed_rate.");
        _emitted = _meter.CreateCounter<long>("flink_taskmanager_job_task_operator_records_emitted_total", "{record}",
            "Records the job's sinks wrote (results, side outputs, late outputs; not the repartition hop).");
        _meter.CreateObservableGauge("flink_taskmanager_job_task_operator_records_consumed_rate", () => Gauge(Volatile.Read(ref _consumedRate)), "{record}/s",
            "Records read from the source topics per second over the last 60 s (as Flink's MeterView).");
        _meter.CreateObservableGauge("flink_taskmanager_job_task_operator_records_emitted_rate", () => Gauge(Volatile.Read(ref _emittedRate)), "{record}/s",
            "Records written by the job's sinks per second over the last 60 s.");
        _latency = _meter.CreateHistogram("flink_taskmanager_job_task_operator_latency_seconds", "s",
            "Processing time minus event time of each element as it reaches the window operators (once per element, however many windows read it).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _late = _meter.CreateCounter<long>("stream_job_late_records_total", "{record}",
            "Late (record, window) pairs, by outcome of the window's policy: dropped, side_output, updated.");
        _meter.CreateObservableGauge("stream_job_watermark_timestamp_seconds", ObserveWatermark, "s",
            "The job's event-time watermark (seconds since the epoch); scaled out, the lowest of this instance's window partitions.");
        _meter.CreateObservableGauge("stream_job_watermark_lag_seconds", ObserveWatermarkLag, "s",
            "Wall clock minus the watermark, at the last measurement.");
        _meter.CreateObservableGauge("stream_job_state_windows", () => Count(ref _windows), "{window}",
            "Windows whose state is held (open, or fired and within allowed lateness).");
        _meter.CreateObservableGauge("stream_job_state_keys", () => Count(ref _keys), "{key}", "Keys with at least one window held.");
        _meter.CreateObservableGauge("stream_job_checkpoint_size_bytes", () => Count(ref _checkpointBytes), "By",
            "Bytes of job state in the last checkpoint (scaled out: every owned partition's last saved state).");
        _checkpointDuration = _meter.CreateHistogram("stream_job_checkpoint_duration_seconds", "s",
            "Checkpoint cycles: commit of the outputs (flush or transaction), then the checkpoint write.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CheckpointBuckets });
        _checkpoints = _meter.CreateCounter<long>("stream_job_checkpoints_total", "{checkpoint}", "Checkpoint cycles, by outcome: completed, failed.");
        _meter.CreateObservableGauge("stream_job_consumer_lag_records", ObserveLags, "{record}",
            "Per assigned partition: its high watermark minus the consumer's position, from the consumer's own fetch state.");
        _backPressure = _meter.CreateCounter<long>("stream_job_backpressure_waits_total", "{wait}",
            "Times the producer's queue was full and the loop waited for acknowledgements before writing on.");
        _transactions = _meter.CreateCounter<long>("stream_job_transactions_total", "{transaction}", "Kafka transactions, by outcome: committed, aborted.");
    }

    /// <summary>Whether <see cref="Tick"/> is due at <paramref name="now"/> (a timestamp of the clock given).</summary>
    public bool IsTickDue(long now) => now >= _nextTickTimestamp;

    public void Consumed()
    {
        _consumedTotal++;
        _consumed.Add(1, _job);
    }

    public void Emitted()
    {
        _emittedTotal++;
        _emitted.Add(1, _job);
    }

    public void WindowInput(object? element, long eventTime)
    {
        // The default job's five windows read each element: one observation per element, not five
        // (each cost a clock read and a trip through the meter listener).
        if (element is not null)
        {
            if (ReferenceEquals(element, _lastWindowInput))
            {
                return;
            }
            _lastWindowInput = element;
        }
        if (_latency.Enabled)
        {
            var delay = _recordClock.GetUtcNow().ToUnixTimeMilliseconds() - eventTime;
            _latency.Record(Math.Max(0, delay) / 1000.0, _job);
        }
    }

    public void LateRecord(LateOutcome outcome) => _late.Add(1, _job, _lateTags[(int)outcome]);

    public void BackPressureWait() => _backPressure.Add(1, _job);

    public void Checkpoint(TimeSpan duration, bool completed, long? stateBytes)
    {
        _checkpointDuration.Record(duration.TotalSeconds, _job);
        _checkpoints.Add(1, _job, Outcome(completed ? "completed" : "failed"));
        if (stateBytes is { } bytes)
        {
            Volatile.Write(ref _checkpointBytes, bytes);
        }
    }

    public void Transaction(bool committed) => _transactions.Add(1, _job, Outcome(committed ? "committed" : "aborted"));

    /// <summary>Refreshes the gauges; the consume loop's thread only.</summary>
    public void Tick(long watermark, (int Windows, int Keys)? state, PartitionLag[] lags)
    {
        var now = _clock.GetTimestamp();
        _nextTickTimestamp = now + _clock.TimestampFrequency;
        Volatile.Write(ref _watermark, watermark);
        Volatile.Write(ref _windows, state?.Windows ?? -1);
        Volatile.Write(ref _keys, state?.Keys ?? -1);
        _lags = lags;

        _samples[_nextSample] = (now, _consumedTotal, _emittedTotal);
        _nextSample = (_nextSample + 1) % _samples.Length;
        _sampleCount = Math.Min(_sampleCount + 1, _samples.Length);
        var oldest = _samples[(_nextSample - _sampleCount + _samples.Length) % _samples.Length];
        var seconds = (now - oldest.Timestamp) / (double)_clock.TimestampFrequency;
        Volatile.Write(ref _consumedRate, seconds > 0 ? (_consumedTotal - oldest.Consumed) / seconds : 0);
        Volatile.Write(ref _emittedRate, seconds > 0 ? (_emittedTotal - oldest.Emitted) / seconds : 0);
    }

    public void Dispose() => _meter.Dispose();

    private KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);

    private Measurement<double>[] Gauge(double value) => [new(value, _job)];

    private Measurement<long>[] Count(ref long field)
    {
        var value = Volatile.Read(ref field);
        return value < 0 ? [] : [new(value, _job)];
    }

    private Measurement<double>[] ObserveWatermark()
    {
        var watermark = Volatile.Read(ref _watermark);
        return watermark == EventTime.NoWatermark ? [] : [new(watermark / 1000.0, _job)];
    }

    private Measurement<double>[] ObserveWatermarkLag()
    {
        var watermark = Volatile.Read(ref _watermark);
        return watermark == EventTime.NoWatermark ? [] : [new((_clock.GetUtcNow().ToUnixTimeMilliseconds() - watermark) / 1000.0, _job)];
    }

    private IEnumerable<Measurement<long>> ObserveLags()
    {
        foreach (var lag in _lags)
        {
            yield return new Measurement<long>(lag.Lag, _job, new("topic", lag.Topic), new("partition", lag.Partition));
        }
    }
}

/// <summary>One assigned partition's lag: high watermark minus the consumer's position.</summary>
internal readonly record struct PartitionLag(string Topic, int Partition, long Lag);
