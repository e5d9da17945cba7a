using System.Diagnostics.Metrics;
using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Consuming;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Time;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// Runs a <see cref="StreamJob"/> on Kafka: one consumer in a consumer group (on a
/// <see cref="ConsumeLoop{TKey, TValue}"/>) reads the source topics, the job's steps and window
/// operators run on the loop's thread, and results and side outputs go out through one producer
/// (acks=all): transactional under <see cref="ProcessingGuarantee.ExactlyOnce"/> (the default),
/// idempotent under <see cref="ProcessingGuarantee.AtLeastOnce"/>. Metrics are published on the meter
/// <see cref="MeterName"/> (see the Streaming README for the names).
/// </summary>
/// <remarks>
/// <para><b>Checkpoints.</b> Every <see cref="KafkaJobOptions.CheckpointInterval"/>, and on a clean
/// stop, the loop (between two records) makes every output so far durable (flushes the producer, or
/// sends the input offsets to the open transaction and commits it); then writes one checkpoint with
/// the next offset of every input partition and the whole job state, tagged with the cluster id and
/// the job's fingerprint; then commits the offsets
/// to Kafka, for lag reporting only. Restore uses the checkpoint's offsets, never the group's: the
/// embedded broker does not store transactional offset commits, and correctness must not rest on
/// them.</para>
/// <para><b>Exactly once, in effect.</b> After a crash the job resumes from the last checkpoint:
/// state and offsets of the same instant. The records it reads again are the same, in the same
/// order per partition, so it emits the same output again, with the same keys (choose sink keys
/// that name the result, such as <see cref="OutputKeys.ForWindow{TKey, TOut}"/>). Output between
/// the checkpoint and the crash may thus appear twice in a topic, identical; a consumer that
/// upserts by key sees each result once. Window results do not depend on how partitions
/// interleave as long as records are on time for their own partition; processing-time idleness
/// can change which records are late. On a real cluster the transactions of
/// <see cref="ProcessingGuarantee.ExactlyOnce"/> also hide aborted output from read_committed
/// consumers; a crash between a transaction's commit and the checkpoint write makes the restart
/// commit the same outputs again, identical.</para>
/// <para><b>Rebalances.</b> Eager: on revocation the runner checkpoints and drops its state; on
/// assignment it restores the whole checkpoint, tracks the assigned partitions and seeks each to
/// its checkpointed offset (or the beginning, or the end: <see cref="KafkaJobOptions.StartFromBeginning"/>).
/// Offsets of partitions not assigned now are carried into later checkpoints unchanged, so a
/// checkpoint's state always matches its offsets. Keyed state is not split by partition: one
/// instance per job is correct; scaling out needs a repartition topic after KeyBy (or mergeable
/// partial aggregates) and state per partition: set <see cref="KafkaJobOptions.ScaleOut"/>, which runs
/// a job with keyed windows in two stages joined by a repartition topic, with a checkpoint per
/// partition (see the Streaming README).</para>
/// <para>A checkpoint of another cluster (every embedded broker is a new, empty cluster) or of
/// another job definition is set aside with a warning and never applied.</para>
/// <para><see cref="Start"/> once. <see cref="StopAsync"/> stops cleanly (final checkpoint);
/// <see cref="Dispose"/> without it abandons the work since the last checkpoint, as a crash would.
/// Both are thread-safe.</para>
/// </remarks>
public sealed partial class KafkaJobRunner : IDisposable
{
    private readonly StreamJob _job;
    private readonly KafkaJobOptions _options;
    private readonly ICheckpointStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    // What the loop's thread reads per record (see LoopClock); _clock for durations and other threads.
    private readonly LoopClock _loopClock;
    private bool _loopClockFresh;
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly Action<DeliveryReport<byte[]?, byte[]>> _onDelivered;
    private readonly JobMetrics _metrics;
    private readonly bool _transactional;
    private readonly ConsumeLoop<byte[]?, byte[]> _loop;
    private readonly string _fingerprint;
    private readonly Dictionary<SourcePartition, long> _positions = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobInstance? _instance;
    private bool _inTransaction;
    private Exception? _deliveryError;
    private long _nextCheckpointTicks;
    private volatile bool _stopRequested;
    private volatile bool _abandoned;
    private volatile bool _finalCheckpointDone;
    private int _disposed;
    private long _recordsRead;
    private int _assignedPartitions;
    private int _started;

    /// <summary>The name of the meter every runner measures on (one meter per runner, tagged <c>job_name</c>).</summary>
    public const string MeterName = "EventPlatform.Streaming";

    /// <summary>
    /// Creates the runner's producer and consumer; nothing is read until <see cref="Start"/>. With
    /// <paramref name="meters"/> (the host's factory) its metrics are exported by the host; without,
    /// they are still published on <see cref="MeterName"/> for any <see cref="MeterListener"/>.
    /// </summary>
    public KafkaJobRunner(StreamJob job, KafkaJobOptions options, ICheckpointStore store, ILogger<KafkaJobRunner>? logger = null, TimeProvider? clock = null, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        _job = job;
        _options = options;
        _store = store;
        _logger = logger ?? NullLogger<KafkaJobRunner>.Instance;
        _clock = clock ?? TimeProvider.System;
        _fingerprint = job.Fingerprint;

        var producerConfig = KafkaClientConfig.ForProducer(options.Kafka, $"{job.Name}-producer", options.BootstrapServers);
        producerConfig.EnableIdempotence = true;
        producerConfig.Acks = Acks.All;
        producerConfig.StatisticsIntervalMs = 0;
        producerConfig.LingerMs = options.ProducerLinger.TotalMilliseconds;
        // Only the outcome is read from a delivery report: marshalling each record's headers and
        // timestamp back for it cost allocations per record produced.
        producerConfig.DeliveryReportFields = "status";
        _transactional = options.ProcessingGuarantee == ProcessingGuarantee.ExactlyOnce;
        if (_transactional)
        {
            TransactionalId = TransactionalIdFor(job, options);
            producerConfig.TransactionalId = TransactionalId;
            // A transaction stays open for a whole checkpoint interval; the broker aborts it after this.
            producerConfig.TransactionTimeoutMs = (int)Math.Clamp(options.CheckpointInterval.TotalMilliseconds * 3 + options.FlushTimeout.TotalMilliseconds, 60_000, 900_000);
        }
        _loopClock = new LoopClock(_clock);
        _metrics = new JobMetrics(job.Name, meters, _clock, _loopClock);
        _onDelivered = OnDelivered; // one delegate, not one per record produced
        _producer = new ProducerBuilder<byte[]?, byte[]>(producerConfig).SetLogHandler(LogClient).Build();

        var consumerConfig = KafkaClientConfig.ForConsumer(options.Kafka, $"{job.Name}-consumer", options.BootstrapServers, options.GroupId ?? job.Name);
        consumerConfig.EnableAutoCommit = false;
        consumerConfig.AutoOffsetReset = options.StartFromBeginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest;
        var consumer = new ConsumerBuilder<byte[]?, byte[]>(consumerConfig)
            .SetLogHandler(LogClient)
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions))
            .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions))
            .SetPartitionsLostHandler((_, partitions) => OnLost(partitions))
            .Build();
        _loop = new ConsumeLoop<byte[]?, byte[]>(consumer, $"job {job.Name}", new ConsumeLoopHandlers<byte[]?, byte[]>
        {
            OnRecord = OnRecord,
            OnFailure = OnFailure,
            BeforePoll = BeforePoll,
            OnIdle = OnIdle,
        }, niceness: options.ThreadNiceness);
        if (options.ScaleOut is { } scaleOut)
        {
            var partitioned = store as IPartitionedCheckpointStore ?? throw new ArgumentException(
                $"Scale-out keeps a checkpoint per partition: the store must be an {nameof(IPartitionedCheckpointStore)} (such as {nameof(FileCheckpointStore)}).", nameof(store));
            _scaled = new ScaledRun(scaleOut, partitioned, job.HasKeyedWindows ? RepartitionTopicName(job.Name) : null, new RepartitionRecords(RepartitionRecords.Tag(_fingerprint), job.SourceTopics));
        }
    }

    /// <summary>The producer's <c>transactional.id</c> under <see cref="ProcessingGuarantee.ExactlyOnce"/>; null otherwise.</summary>
    public string? TransactionalId { get; }

    /// <summary>The cluster id the checkpoints are tagged with, once started.</summary>
    public string? ClusterId { get; private set; }

    /// <summary>Checkpoints written by this runner.</summary>
    public int CheckpointsWritten { get; private set; }

    /// <summary>Records read from Kafka so far (source and, scaled out, repartition records). Thread-safe.</summary>
    public long RecordsRead => Interlocked.Read(ref _recordsRead);

    /// <summary>How many partitions the consumer group gives this runner now (0 before the first assignment). Thread-safe.</summary>
    public int AssignedPartitions => Volatile.Read(ref _assignedPartitions);

    /// <summary>Why the job stopped, if it failed.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Completes once the consume loop has ended (stopped, disposed or failed).</summary>
    public Task Completion => _loop.Completion;

    /// <summary>
    /// Reads the cluster id (blocking up to <see cref="KafkaJobOptions.MetadataTimeout"/>), subscribes
    /// to the job's source topics and starts the consume loop.
    /// </summary>
    /// <exception cref="InvalidOperationException">The cluster reports no id and none is configured.</exception>
    public void Start(CancellationToken cancellationToken = default)
    {
        ClusterId = KafkaClusterId.TryGet(_loop.Consumer.Handle, _options.MetadataTimeout);
        if (ClusterId is null)
        {
            ClusterId = _options.ClusterIdentity ?? throw new InvalidOperationException(
                "The Kafka cluster reported no cluster id and no ClusterIdentity is configured: checkpoints could not be tied to their cluster.");
            RuntimeLog.ConfiguredClusterIdentity(_logger, _job.Name, ClusterId);
        }
        if (_transactional)
        {
            // On a real cluster this fences an earlier producer with the same id and aborts what it left open.
            _producer.InitTransactions(_options.FlushTimeout);
            RuntimeLog.Transactional(_logger, _job.Name, TransactionalId!);
        }
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);
        if (_scaled is not null)
        {
            PrepareScaleOut(cancellationToken);
            _loop.Consumer.Subscribe(_scaled.Topic is { } repartition ? [.. _job.SourceTopics, repartition] : _job.SourceTopics);
            _loop.Start(cancellationToken);
            Volatile.Write(ref _started, 1);
            return;
        }
        _loop.Consumer.Subscribe(_job.SourceTopics);
        _loop.Start(cancellationToken);
        Volatile.Write(ref _started, 1);
    }

    /// <summary>Stops cleanly: the loop takes a final checkpoint, then leaves the group. Completes when it has.</summary>
    public async Task StopAsync()
    {
        _stopRequested = true;
        if (Volatile.Read(ref _started) == 0)
        {
            await _loop.StopAsync().ConfigureAwait(false);
            _stopped.TrySetResult();
            return;
        }
        await _loop.Completion.ConfigureAwait(false);
        await _stopped.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the job. After <see cref="StopAsync"/> this only releases the clients; without it the
    /// work since the last checkpoint is abandoned (no final checkpoint), as in a crash.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _abandoned = !_finalCheckpointDone;
        _loop.Dispose();
        _producer.Dispose();
        _metrics.Dispose();
        _stopped.TrySetResult();
    }

    private void BeforePoll(IConsumer<byte[]?, byte[]> consumer)
    {
        if (_stopRequested && !_finalCheckpointDone)
        {
            Checkpoint(consumer);
            _finalCheckpointDone = true;
            _stopped.TrySetResult();
            _ = _loop.StopAsync();
            return;
        }
        // A record read since the last poll refreshed the loop's clock already.
        var now = _loopClockFresh ? _loopClock.GetTimestamp() : _loopClock.Refresh();
        _loopClockFresh = false;
        if (_scaled is not null)
        {
            ResumeAssigned(consumer, _scaled);
            ProduceRoutedWhenDue(now);
            BroadcastWatermarksWhenDue(now);
            ApplyBackPressure(consumer, now);
            GoLocalWhenReady(consumer, now);
        }
        if (HasAssignment && now >= _nextCheckpointTicks)
        {
            Checkpoint(consumer);
        }
        else if (_metrics.IsTickDue(now))
        {
            TickMetrics(consumer);
        }
    }

    private bool HasAssignment => _scaled is null ? _instance is not null : _scaled.Sources.Count + _scaled.Tasks.Count > 0;

    private void OnIdle()
    {
        _loopClock.Refresh();
        if (_scaled is null)
        {
            _instance?.AdvanceWatermark();
            return;
        }
        ProduceRouted();
        ResumeSources(_loop.Consumer);
        foreach (var task in _scaled.Tasks.Values)
        {
            task.Instance.AdvanceWatermark();
        }
    }

    private void OnRecord(ConsumeResult<byte[]?, byte[]> result)
    {
        if (_finalCheckpointDone)
        {
            // Read after the final checkpoint, before the loop noticed the stop: left for the next run.
            return;
        }
        _loopClock.Refresh();
        _loopClockFresh = true;
        Interlocked.Increment(ref _recordsRead);
        if (_scaled?.Topic != result.Topic)
        {
            _metrics.Consumed();
        }
        if (_scaled is not null)
        {
            OnRecordScaled(result);
            return;
        }
        var instance = _instance ?? throw new InvalidOperationException("A record arrived with no partition assigned.");
        ThrowIfDeliveryFailed();
        var message = result.Message;
        instance.Process(new SourceRecord(result.Topic, result.Partition.Value, result.Offset.Value, message.Key, message.Value ?? [], message.Timestamp.UnixTimestampMs));
        _positions[new SourcePartition(result.Topic, result.Partition.Value)] = result.Offset.Value + 1;
        instance.AdvanceWatermark();
    }

    private void OnFailure(Exception exception)
    {
        Failure = exception;
        AbortTransaction();
        RuntimeLog.Failed(_logger, _job.Name, exception);
        _stopped.TrySetResult();
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions)
    {
        Interlocked.Add(ref _assignedPartitions, partitions.Count);
        if (_scaled is not null)
        {
            return OnAssignedScaled(partitions);
        }
        var instance = new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _loopClock, StagePlan.Whole, _metrics);
        _positions.Clear();
        var checkpoint = LoadApplicable(_store);
        if (checkpoint is not null)
        {
            try
            {
                instance.RestoreState(checkpoint.State);
                foreach (var (partition, offset) in checkpoint.Offsets)
                {
                    _positions[partition] = offset;
                }
            }
            catch (SnapshotFormatException e)
            {
                SetAside(_store, e.Message);
                instance = new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _loopClock, StagePlan.Whole, _metrics);
                _positions.Clear();
                checkpoint = null;
            }
        }

        var assigned = partitions.Select(p => new SourcePartition(p.Topic, p.Partition.Value)).ToHashSet();
        foreach (var partition in _positions.Keys.Where(p => !assigned.Contains(p)))
        {
            instance.RemovePartition(partition);
        }
        foreach (var partition in assigned)
        {
            instance.AddPartition(partition);
        }
        _instance = instance;
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);

        var names = string.Join(", ", assigned.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition));
        if (checkpoint is null)
        {
            RuntimeLog.StartingFresh(_logger, _job.Name, names);
        }
        else
        {
            RuntimeLog.Restored(_logger, _job.Name, names, checkpoint.CreatedAt, Describe(checkpoint.Offsets));
        }
        var fallback = _options.StartFromBeginning ? Offset.Beginning : Offset.End;
        return partitions.Select(p => new TopicPartitionOffset(p,
            _positions.TryGetValue(new SourcePartition(p.Topic, p.Partition.Value), out var offset) ? new Offset(offset) : fallback));
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        if (!_abandoned && !_finalCheckpointDone && Failure is null && HasAssignment)
        {
            Checkpoint(consumer);
        }
        Interlocked.Add(ref _assignedPartitions, -partitions.Count);
        if (_scaled is not null)
        {
            Drop(partitions.Select(p => p.TopicPartition));
            return;
        }
        _instance = null;
        _positions.Clear();
    }

    private void OnLost(List<TopicPartitionOffset> partitions)
    {
        RuntimeLog.PartitionsLost(_logger, _job.Name, string.Join(", ", partitions.Select(p => p.TopicPartition)));
        // Output computed from lost partitions must not commit: their next owner computes it again.
        // Routed records still in batches go into the transaction that is aborted, as they would have
        // if each had been produced when read.
        ProduceRouted();
        AbortTransaction();
        Interlocked.Add(ref _assignedPartitions, -partitions.Count);
        if (_scaled is not null)
        {
            Drop(partitions.Select(p => p.TopicPartition));
            return;
        }
        _instance = null;
        _positions.Clear();
    }

    private Checkpoint? LoadApplicable(ICheckpointStore store)
    {
        var checkpoint = store.Load();
        if (store is FileCheckpointStore { LastLoadProblem: { } problem })
        {
            RuntimeLog.CheckpointUnreadable(_logger, _job.Name, problem);
        }
        if (checkpoint is null)
        {
            return null;
        }
        var reason =
            checkpoint.ClusterId != ClusterId ? $"it belongs to Kafka cluster '{checkpoint.ClusterId}', this is '{ClusterId}'"
            : checkpoint.JobName != _job.Name ? $"it belongs to job '{checkpoint.JobName}', this is '{_job.Name}'"
            : checkpoint.Fingerprint != _fingerprint ? $"it was written by another definition of job '{_job.Name}' (fingerprint {checkpoint.Fingerprint}, now {_fingerprint})"
            : null;
        if (reason is null)
        {
            return checkpoint;
        }
        SetAside(store, reason);
        return null;
    }

    private void SetAside(ICheckpointStore store, string reason)
    {
        RuntimeLog.CheckpointSetAside(_logger, _job.Name, reason);
        store.SetAside(reason);
    }

    private void Checkpoint(IConsumer<byte[]?, byte[]> consumer)
    {
        var started = _clock.GetTimestamp();
        long? stateBytes;
        try
        {
            stateBytes = _scaled is not null ? CheckpointScaled(consumer) : CheckpointWhole(consumer);
        }
        catch (Exception)
        {
            _metrics.Checkpoint(_clock.GetElapsedTime(started), completed: false, stateBytes: null);
            throw;
        }
        if (stateBytes is not null)
        {
            _metrics.Checkpoint(_clock.GetElapsedTime(started), completed: true, stateBytes);
        }
        TickMetrics(consumer);
    }

    // Returns the bytes of state written, or null when there was nothing to checkpoint.
    private long? CheckpointWhole(IConsumer<byte[]?, byte[]> consumer)
    {
        if (_instance is not { } instance)
        {
            return null;
        }
        var offsets = new Dictionary<SourcePartition, long>(_positions);
        // Outputs first: a checkpoint must never claim input whose output is not yet acknowledged (or committed).
        CommitOutputs(consumer, [.. offsets.Select(o => new TopicPartitionOffset(o.Key.Topic, o.Key.Partition, o.Value))]);
        var state = instance.WriteState();
        _store.Save(new Checkpoint(ClusterId!, _job.Name, _fingerprint, _clock.GetUtcNow(), offsets, state));
        CheckpointsWritten++;
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);
        RuntimeLog.CheckpointWritten(_logger, _job.Name, CheckpointsWritten, Describe(offsets));
        if (offsets.Count > 0)
        {
            CommitForLag(consumer, offsets.Select(o => new TopicPartitionOffset(o.Key.Topic, o.Key.Partition, o.Value)));
        }
        return state.Length;
    }

    // The group's committed offsets serve lag reports only (restore uses the checkpoint). Under
    // ExactlyOnce the transaction committed them already on a real cluster; the embedded broker does
    // not store TxnOffsetCommit, so they are committed plainly too.
    private void CommitForLag(IConsumer<byte[]?, byte[]> consumer, IEnumerable<TopicPartitionOffset> offsets)
    {
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            RuntimeLog.CommitFailed(_logger, _job.Name, e.Error.Reason);
        }
    }

    /// <summary>
    /// Makes every output so far durable before a checkpoint claims its input: AtLeastOnce flushes the
    /// idempotent producer; ExactlyOnce sends the input offsets to the open transaction and commits it.
    /// A failed transaction is aborted and the job stops: it resumes from the last checkpoint, whose
    /// offsets match the last committed transaction.
    /// </summary>
    private void CommitOutputs(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        if (!_transactional)
        {
            if (_producer.Flush(_options.FlushTimeout) > 0)
            {
                throw new TimeoutException($"The producer did not deliver the job's output within {_options.FlushTimeout}; no checkpoint was written.");
            }
            ThrowIfDeliveryFailed();
            return;
        }
        if (!_inTransaction && offsets.Count == 0)
        {
            return;
        }
        try
        {
            BeginTransactionIfNone();
            ThrowIfDeliveryFailed();
            if (offsets.Count > 0)
            {
                _producer.SendOffsetsToTransaction(offsets, consumer.ConsumerGroupMetadata, _options.FlushTimeout);
            }
            CommitTransaction();
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            AbortTransaction();
            throw new InvalidOperationException("The job's Kafka transaction failed and was aborted; the job stops and resumes from its last checkpoint.", e);
        }
        _inTransaction = false;
        _metrics.Transaction(committed: true);
        ThrowIfDeliveryFailed();
    }

    private void CommitTransaction()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _producer.CommitTransaction(_options.FlushTimeout);
                return;
            }
            catch (KafkaRetriableException e) when (attempt < 3)
            {
                // The commit's outcome is unknown (a timeout, say); librdkafka allows calling it again.
                RuntimeLog.CommitRetried(_logger, _job.Name, attempt, e.Error.Reason);
            }
        }
    }

    private void BeginTransactionIfNone()
    {
        if (_transactional && !_inTransaction)
        {
            _producer.BeginTransaction();
            _inTransaction = true;
        }
    }

    private void AbortTransaction()
    {
        if (!_inTransaction)
        {
            return;
        }
        _inTransaction = false;
        try
        {
            _producer.AbortTransaction(_options.FlushTimeout);
            _metrics.Transaction(committed: false);
            RuntimeLog.TransactionAborted(_logger, _job.Name);
        }
        catch (KafkaException e)
        {
            // Fenced or fatal: the broker aborts it when the transaction times out or the id is initialised again.
            RuntimeLog.AbortFailed(_logger, _job.Name, e.Error.Reason);
        }
    }

    private void TickMetrics(IConsumer<byte[]?, byte[]> consumer)
    {
        var watermark = EventTime.NoWatermark;
        (int Windows, int Keys)? state = null;
        if (_scaled is null)
        {
            if (_instance is { } instance)
            {
                watermark = instance.Watermark;
                state = instance.StateSize();
            }
        }
        else if (_scaled.Tasks.Count > 0)
        {
            watermark = long.MaxValue;
            int windows = 0, keys = 0;
            foreach (var task in _scaled.Tasks.Values)
            {
                watermark = Math.Min(watermark, task.Instance.Watermark);
                var (w, k) = task.Instance.StateSize();
                windows += w;
                keys += k;
            }
            state = (windows, keys);
        }
        var lags = new List<PartitionLag>();
        foreach (var partition in consumer.Assignment)
        {
            try
            {
                // Both from the consumer's own fetch state: no request to the brokers.
                var position = consumer.Position(partition);
                var ends = consumer.GetWatermarkOffsets(partition);
                if (!position.IsSpecial && !ends.High.IsSpecial)
                {
                    lags.Add(new PartitionLag(partition.Topic, partition.Partition.Value, Math.Max(0, ends.High.Value - position.Value)));
                }
            }
            catch (KafkaException)
            {
                // Not known yet for this partition; the next tick tries again.
            }
        }
        _metrics.Tick(watermark, state, [.. lags]);
    }

    private void Produce(OutputRecord record) => Produce(new TopicPartition(record.Topic, Partition.Any), new Message<byte[]?, byte[]>
    {
        Key = record.Key,
        Value = record.Value,
        Timestamp = new Timestamp(record.Timestamp, TimestampType.CreateTime),
    });

    private void Produce(TopicPartition destination, Message<byte[]?, byte[]> message)
    {
        while (true)
        {
            try
            {
                BeginTransactionIfNone();
                _producer.Produce(destination, message, _onDelivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_State && Volatile.Read(ref _deliveryError) is { } cause)
            {
                // A transaction goes into its error state when a delivery fails: that failure is the cause to report.
                throw new InvalidOperationException("Writing the job's output failed; the job stops and resumes from its last checkpoint.", cause);
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                _metrics.BackPressureWait();
                // Back-pressure: wait a little for the brokers to acknowledge and the local queue to drain.
                _producer.Flush(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void OnDelivered(DeliveryReport<byte[]?, byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.CompareExchange(ref _deliveryError, new ProduceException<byte[]?, byte[]>(report.Error, report), null);
            return;
        }
        OnRepartitionDelivered(report.TopicPartitionOffset);
    }

    private void ThrowIfDeliveryFailed()
    {
        if (Volatile.Read(ref _deliveryError) is { } error)
        {
            throw new InvalidOperationException("Writing the job's output failed; the job stops and resumes from its last checkpoint.", error);
        }
    }

    private void LogClient<T>(T client, LogMessage message)
    {
        _ = client;
        // librdkafka's warnings and errors (a failed produce request, a transaction gone into its error
        // state) are what explains a job's failure: they are logged as warnings, the rest at Trace.
        if (message.Level <= SyslogLevel.Warning)
        {
            RuntimeLog.ClientProblem(_logger, message.Name, message.Facility, message.Message, (int)message.Level);
            return;
        }
        RuntimeLog.Client(_logger, message.Name, message.Facility, message.Message);
    }

    private static string Describe(IReadOnlyDictionary<SourcePartition, long> offsets) =>
        string.Join(", ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition).Select(o => $"{o.Key}@{o.Value}"));

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * _clock.TimestampFrequency);

    // One id per job when one instance runs it: a restart fences its predecessor and aborts its open
    // transaction. Scaled out, one producer per instance (Kafka Streams' EOS v2), named by InstanceId.
    private static string TransactionalIdFor(StreamJob job, KafkaJobOptions options)
    {
        var group = options.GroupId ?? job.Name;
        return options.ScaleOut is null ? $"{group}-txn" : $"{group}-txn-{options.InstanceId ?? Guid.NewGuid().ToString("N")[..12]}";
    }

    private sealed class ProducerOutput(KafkaJobRunner runner) : IJobOutput
    {
        public void Write(OutputRecord record)
        {
            runner.Produce(record);
            runner._metrics.Emitted();
        }
    }
}
