using System.Diagnostics.Metrics;
using EventPlatform.Hosting.Metrics;

namespace EventPlatform.Processor.Job;

/// <summary>
/// What the processor measures, on the meter <see cref="MeterName"/> (the worker host exports it to
/// <c>/metrics</c>). The seed's Flink names: <c>flink_taskmanager_job_task_operator_records_consumed_rate</c>
/// and <c>..._records_emitted_rate</c> (gauges, records per second over the last minute), with the
/// counters they come from, <c>..._records_consumed_total{topic}</c> and <c>..._records_emitted_total{topic}</c>
/// (for PromQL's <c>rate()</c>), and <c>flink_taskmanager_job_task_operator_latency</c> (a histogram in
/// seconds, from a record's Kafka timestamp to its processing). Ours: <c>processor_dlq_records_total{reason}</c>,
/// <c>processor_processing_retries_total</c>, <c>processor_registry_retries_total</c>,
/// <c>processor_job_restarts_total</c> and <c>processor_checkpoints_total</c>.
/// </summary>
/// <remarks>Thread-safe: interlocked updates only.</remarks>
public sealed class ProcessorMetrics : IDisposable
{
    /// <summary>The processor's meter.</summary>
    public const string MeterName = "EventPlatform.Processor";

    private const string Prefix = "flink_taskmanager_job_task_operator_";
    private static readonly double[] LatencyBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

    private readonly Counter<long> _consumed;
    private readonly Counter<long> _emitted;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _registryRetries;
    private readonly Counter<long> _restarts;
    private readonly Histogram<double> _latency;
    private readonly RateWindow _consumedRate;
    private readonly RateWindow _emittedRate;
    private long _consumedTotal;
    private long _emittedTotal;
    private long _deadLetteredTotal;

    /// <summary>Creates the instruments on a meter of <paramref name="meters"/>.</summary>
    public ProcessorMetrics(IMeterFactory meters, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _consumed = meter.CreateCounter<long>(Prefix + "records_consumed_total", "{record}", "Records the job read from its source topics, by topic.");
        _emitted = meter.CreateCounter<long>(Prefix + "records_emitted_total", "{record}", "Records the job wrote (window results and DLQ records), by topic.");
        _deadLettered = meter.CreateCounter<long>("processor_dlq_records_total", "{record}", "Records sent to the DLQ, by reason (the DLQ error_type).");
        _retries = meter.CreateCounter<long>("processor_processing_retries_total", "{attempt}", "Retries of records whose processing threw.");
        _registryRetries = meter.CreateCounter<long>("processor_registry_retries_total", "{attempt}", "Waits for an unreachable schema registry (the record is retried, never dead-lettered for it).");
        _restarts = meter.CreateCounter<long>("processor_job_restarts_total", "{restart}", "Times the job stopped on a failure and was restarted from its checkpoint.");
        _latency = meter.CreateHistogram("flink_taskmanager_job_task_operator_latency", "s",
            "Seconds from a record's Kafka timestamp to its processing by the job.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _consumedRate = new RateWindow(() => Volatile.Read(ref _consumedTotal), time, TimeSpan.FromMinutes(1));
        _emittedRate = new RateWindow(() => Volatile.Read(ref _emittedTotal), time, TimeSpan.FromMinutes(1));
        meter.CreateObservableGauge(Prefix + "records_consumed_rate", () => _consumedRate.PerSecond(), "{record}/s", "Records read per second over the last minute.");
        meter.CreateObservableGauge(Prefix + "records_emitted_rate", () => _emittedRate.PerSecond(), "{record}/s", "Records written per second over the last minute.");
        meter.CreateObservableCounter("processor_checkpoints_total", () => CheckpointsWritten(), "{checkpoint}", "Checkpoints written (offsets and window state).");
        _retries.Add(0);
        _registryRetries.Add(0);
        _restarts.Add(0);
    }

    /// <summary>Reads the number of checkpoints written so far (set by the service that runs the job).</summary>
    public Func<long> CheckpointsWritten { get; set; } = () => 0;

    /// <summary>Records read since start.</summary>
    public long ConsumedTotal => Volatile.Read(ref _consumedTotal);

    /// <summary>Records written since start.</summary>
    public long EmittedTotal => Volatile.Read(ref _emittedTotal);

    /// <summary>Records dead-lettered since start.</summary>
    public long DeadLetteredTotal => Volatile.Read(ref _deadLetteredTotal);

    internal void Consumed(string topic, TimeSpan delay)
    {
        Interlocked.Increment(ref _consumedTotal);
        _consumed.Add(1, new KeyValuePair<string, object?>("topic", topic));
        _latency.Record(Math.Max(0, delay.TotalSeconds));
    }

    internal void Emitted(string topic)
    {
        Interlocked.Increment(ref _emittedTotal);
        _emitted.Add(1, new KeyValuePair<string, object?>("topic", topic));
    }

    internal void DeadLettered(string reason)
    {
        Interlocked.Increment(ref _deadLetteredTotal);
        _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    internal void ProcessingRetry() => _retries.Add(1);

    internal void RegistryRetry() => _registryRetries.Add(1);

    internal void Restarted() => _restarts.Add(1);

    /// <inheritdoc />
    public void Dispose()
    {
        _consumedRate.Dispose();
        _emittedRate.Dispose();
    }
}
