using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Consuming;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// Runs a <see cref="StreamJob"/> on Kafka: one consumer in a consumer group (on a
/// <see cref="ConsumeLoop{TKey, TValue}"/>) reads the source topics, the job's steps and window
/// operators run on the loop's thread, and results and side outputs go out through one idempotent
/// producer (acks=all).
/// </summary>
/// <remarks>
/// <para><b>Checkpoints.</b> Every <see cref="KafkaJobOptions.CheckpointInterval"/>, and on a clean
/// stop, the loop (between two records) flushes the producer, so every output up to this point is
/// acknowledged; then writes one checkpoint with the next offset of every input partition and the
/// whole job state, tagged with the cluster id and the job's fingerprint; then commits the offsets
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
/// can change which records are late. On a real cluster Kafka transactions would also hide the
/// duplicates from read_committed consumers; that is a later step.</para>
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
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly ConsumeLoop<byte[]?, byte[]> _loop;
    private readonly string _fingerprint;
    private readonly Dictionary<SourcePartition, long> _positions = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobInstance? _instance;
    private Exception? _deliveryError;
    private long _nextCheckpointTicks;
    private volatile bool _stopRequested;
    private volatile bool _abandoned;
    private volatile bool _finalCheckpointDone;
    private int _disposed;
    private long _recordsRead;
    private int _assignedPartitions;
    private int _started;

    /// <summary>Creates the runner's producer and consumer; nothing is read until <see cref="Start"/>.</summary>
    public KafkaJobRunner(StreamJob job, KafkaJobOptions options, ICheckpointStore store, ILogger<KafkaJobRunner>? logger = null, TimeProvider? clock = null)
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
        });
        if (options.ScaleOut is { } scaleOut)
        {
            var partitioned = store as IPartitionedCheckpointStore ?? throw new ArgumentException(
                $"Scale-out keeps a checkpoint per partition: the store must be an {nameof(IPartitionedCheckpointStore)} (such as {nameof(FileCheckpointStore)}).", nameof(store));
            _scaled = new ScaledRun(scaleOut, partitioned, job.HasKeyedWindows ? RepartitionTopicName(job.Name) : null, RepartitionRecords.Tag(_fingerprint));
        }
    }

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
        if (_scaled is not null)
        {
            BroadcastWatermarksWhenDue();
        }
        if (HasAssignment && _clock.GetTimestamp() >= _nextCheckpointTicks)
        {
            Checkpoint(consumer);
        }
    }

    private bool HasAssignment => _scaled is null ? _instance is not null : _scaled.Sources.Count + _scaled.Tasks.Count > 0;

    private void OnIdle()
    {
        if (_scaled is null)
        {
            _instance?.AdvanceWatermark();
            return;
        }
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
        Interlocked.Increment(ref _recordsRead);
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
        var instance = new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _clock);
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
                instance = new JobInstance(_job, new ProducerOutput(this), _options.Watermarks, _clock);
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
        if (_scaled is not null)
        {
            CheckpointScaled(consumer);
            return;
        }
        if (_instance is not { } instance)
        {
            return;
        }
        // Outputs first: a checkpoint must never claim input whose output is not yet acknowledged.
        if (_producer.Flush(_options.FlushTimeout) > 0)
        {
            throw new TimeoutException($"The producer did not deliver the job's output within {_options.FlushTimeout}; no checkpoint was written.");
        }
        ThrowIfDeliveryFailed();
        var offsets = new Dictionary<SourcePartition, long>(_positions);
        _store.Save(new Checkpoint(ClusterId!, _job.Name, _fingerprint, _clock.GetUtcNow(), offsets, instance.WriteState()));
        CheckpointsWritten++;
        _nextCheckpointTicks = _clock.GetTimestamp() + Ticks(_options.CheckpointInterval);
        RuntimeLog.CheckpointWritten(_logger, _job.Name, CheckpointsWritten, Describe(offsets));
        if (offsets.Count == 0)
        {
            return;
        }
        try
        {
            consumer.Commit(offsets.Select(o => new TopicPartitionOffset(o.Key.Topic, o.Key.Partition, o.Value)));
        }
        catch (KafkaException e)
        {
            RuntimeLog.CommitFailed(_logger, _job.Name, e.Error.Reason);
        }
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
                _producer.Produce(destination, message, OnDelivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
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
        }
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
        RuntimeLog.Client(_logger, message.Name, message.Facility, message.Message);
    }

    private static string Describe(IReadOnlyDictionary<SourcePartition, long> offsets) =>
        string.Join(", ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition).Select(o => $"{o.Key}@{o.Value}"));

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * _clock.TimestampFrequency);

    private sealed class ProducerOutput(KafkaJobRunner runner) : IJobOutput
    {
        public void Write(OutputRecord record) => runner.Produce(record);
    }
}
