using System.Diagnostics.Metrics;

namespace EventPlatform.Processor.Job;

/// <summary>
/// What the default job measures beyond the engine, on the meter <see cref="MeterName"/> (the worker
/// host exports it to <c>/metrics</c>): <c>processor_records_consumed_total{topic}</c> (records the
/// job classified, by source topic), <c>processor_records_emitted_total{topic}</c>,
/// <c>processor_dlq_records_total{reason}</c>, <c>processor_processing_retries_total</c>,
/// <c>processor_registry_retries_total</c>, <c>processor_job_restarts_total</c> and
/// <c>processor_checkpoints_total</c>. The seed's Flink names (<c>flink_taskmanager_job_task_operator_*</c>:
/// records consumed and emitted, their rates, latency), watermark lag, state size and checkpoint
/// duration come from the engine's runner meter (<c>KafkaJobRunner.MeterName</c>), labelled <c>job_name</c>.
/// </summary>
/// <remarks>Thread-safe: interlocked updates only.</remarks>
public sealed class ProcessorMetrics : IDisposable
{
    /// <summary>The processor's meter.</summary>
    public const string MeterName = "EventPlatform.Processor";

    private const string Prefix = "processor_";

    private readonly Counter<long> _consumed;
    private readonly Counter<long> _emitted;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _registryRetries;
    private readonly Counter<long> _restarts;
    private long _consumedTotal;
    private volatile TopicTag? _lastConsumedTopic;
    private long _emittedTotal;
    private long _deadLetteredTotal;

    /// <summary>Creates the instruments on a meter of <paramref name="meters"/>.</summary>
    public ProcessorMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _consumed = meter.CreateCounter<long>(Prefix + "records_consumed_total", "{record}", "Records the job read from its source topics, by topic.");
        _emitted = meter.CreateCounter<long>(Prefix + "records_emitted_total", "{record}", "Records the job wrote (window results and DLQ records), by topic.");
        _deadLettered = meter.CreateCounter<long>("processor_dlq_records_total", "{record}", "Records sent to the DLQ, by reason (the DLQ error_type).");
        _retries = meter.CreateCounter<long>("processor_processing_retries_total", "{attempt}", "Retries of records whose processing threw.");
        _registryRetries = meter.CreateCounter<long>("processor_registry_retries_total", "{attempt}", "Waits for an unreachable schema registry (the record is retried, never dead-lettered for it).");
        _restarts = meter.CreateCounter<long>("processor_job_restarts_total", "{restart}", "Times the job stopped on a failure and was restarted from its checkpoint.");
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

    internal void Consumed(string topic)
    {
        Interlocked.Increment(ref _consumedTotal);
        // The client makes a topic string per record; the tag of the last topic, reused while the
        // topic is the same, lets the exporter find its series by reference (see PrometheusMeterExporter).
        var tag = _lastConsumedTopic;
        if (tag is null || !string.Equals(tag.Topic, topic, StringComparison.Ordinal))
        {
            _lastConsumedTopic = tag = new TopicTag(topic);
        }
        _consumed.Add(1, tag.Tag);
    }

    private sealed class TopicTag(string topic)
    {
        public string Topic { get; } = topic;

        public KeyValuePair<string, object?> Tag { get; } = new("topic", topic);
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
        // Nothing of its own to release: the meter belongs to the host's factory.
    }
}
