using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Events;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Core.Resilience;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Consuming;
using EventPlatform.Schemas.Client;
using EventPlatform.Sink.Buffering;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Sink.Worker;

/// <summary>What one sink task needs besides its collaborators.</summary>
/// <param name="TaskNumber">Its number within the instance (0 .. tasks.max-1), for thread names and logs.</param>
/// <param name="ConsumerConfig">The consumer's settings: group, bootstrap, no auto-commit.</param>
/// <param name="Topics">What it subscribes to.</param>
/// <param name="Flush">When a partition's buffer is written.</param>
/// <param name="Backoff">The seed's retry delays.</param>
/// <param name="MaxAttempts">Write attempts before refused rows go to the DLQ (5).</param>
/// <param name="ClusterId">The Kafka cluster's id, which the warehouse's offsets are tagged with.</param>
/// <param name="ThreadNiceness">The task thread's nice value on Linux (0: the process's priority).</param>
public sealed record SinkTaskSettings(
    int TaskNumber,
    ConsumerConfig ConsumerConfig,
    IReadOnlyList<string> Topics,
    FlushPolicy Flush,
    ExponentialBackoff Backoff,
    int MaxAttempts,
    string ClusterId,
    int ThreadNiceness = 0);

/// <summary>
/// One sink task (Kafka Connect's unit of parallelism): a consumer in the connector's group, on its
/// own thread (<see cref="ConsumeLoop{TKey, TValue}"/>), turning records into rows, buffering them
/// per partition, and writing each partition's rows with its next offset in one warehouse transaction.
/// </summary>
/// <remarks>
/// <para>
/// Exactly-once in effect (Properties 15 and 21): on assignment each partition resumes at the offset
/// the warehouse stored for this cluster; rows are upserts, so whatever a crash makes the sink read
/// again lands on the same rows. Offsets go to Kafka only after the warehouse commit, for lag.
/// </para>
/// <para>
/// Retries (Property 16) never block the thread: a failed partition is paused and tried again after
/// the seed's backoff while the others keep flowing. After <see cref="SinkTaskSettings.MaxAttempts"/>
/// attempts, rows the warehouse refuses are written one by one and the refused ones go to
/// <c>events.dlq</c>; a warehouse that is away keeps its partition paused and is tried again at the
/// backoff's cap, so good records never go to the DLQ for an outage. A record that cannot be
/// transformed goes to the DLQ at once (transformation is deterministic: retrying cannot help).
/// </para>
/// </remarks>
public sealed class SinkTask : IAsyncDisposable
{
    private readonly SinkTaskSettings _settings;
    private readonly SinkTransformer _transformer;
    private readonly IWarehouseDestination _destination;
    private readonly IProducer<byte[]?, byte[]> _dlq;
    private readonly SinkMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<Exception> _onFailure;
    private readonly Dictionary<TopicPartition, PartitionState> _partitions = [];

    // Set on assignment, read by the next poll on the same thread: the group's commit may lag the warehouse after a kill.
    private readonly List<TopicPartitionOffset> _warehouseOffsetsToCompare = [];
    private readonly ConsumeLoop<byte[]?, byte[]> _loop;
    private volatile bool _stopping;
    private volatile bool _pauseRequested;
    private bool _pausedByRequest;
    private List<TopicPartition>? _resumePending;
    private volatile Exception? _failure;
    private volatile string? _setupProblem;

    public SinkTask(
        SinkTaskSettings settings,
        SinkTransformer transformer,
        IWarehouseDestination destination,
        IProducer<byte[]?, byte[]> deadLetters,
        SinkMetrics metrics,
        TimeProvider time,
        ILogger logger,
        Action<Exception> onFailure)
    {
        _settings = settings;
        _transformer = transformer;
        _destination = destination;
        _dlq = deadLetters;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _onFailure = onFailure;
        var consumer = new ConsumerBuilder<byte[]?, byte[]>(settings.ConsumerConfig)
            .SetPartitionsAssignedHandler((_, assigned) => OnAssigned(assigned))
            .SetPartitionsRevokedHandler((c, revoked) => OnRevoked(c, revoked.Select(p => p.TopicPartition), "revoked"))
            .SetPartitionsLostHandler((_, lost) => OnLost(lost.Select(p => p.TopicPartition)))
            .Build();
        _loop = new ConsumeLoop<byte[]?, byte[]>(consumer, $"sink-task-{settings.TaskNumber}", new ConsumeLoopHandlers<byte[]?, byte[]>
        {
            OnRecord = OnRecord,
            BeforePoll = BeforePoll,
            OnFailure = e =>
            {
                _failure = e;
                SinkLog.TaskFailed(_logger, e, _settings.TaskNumber);
                _onFailure(e);
            },
        }, niceness: settings.ThreadNiceness);
    }

    /// <summary>Partitions it holds now (read from any thread: a snapshot count).</summary>
    public int AssignedPartitions => Volatile.Read(ref _assignedCount);

    private int _assignedCount;

    /// <summary>Why the task ended, if it failed (Kafka Connect's task <c>trace</c>).</summary>
    public Exception? Failure => _failure;

    /// <summary>The last setup error (credentials, table, permission) while it lasts: the task reports FAILED with it and retries slowly.</summary>
    public string? SetupProblem => _setupProblem;

    /// <summary>Whether <see cref="Pause"/> is in effect.</summary>
    public bool IsPaused => _pauseRequested;

    /// <summary>Stops reading every partition (buffered rows are still written on time) until <see cref="Resume"/>; any thread.</summary>
    public void Pause() => _pauseRequested = true;

    /// <summary>Reads again after <see cref="Pause"/>; any thread.</summary>
    public void Resume() => _pauseRequested = false;

    /// <summary>Subscribes and starts consuming on the task's thread.</summary>
    public void Start(CancellationToken cancellationToken)
    {
        _loop.Consumer.Subscribe(_settings.Topics);
        _loop.Start(cancellationToken);
    }

    /// <summary>Writes every buffered row (flush on shutdown), leaves the group and closes the consumer.</summary>
    public Task StopAsync()
    {
        // The loop's own thread flushes (the consumer is not thread-safe) and then ends the loop.
        _stopping = true;
        return _loop.Completion;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _loop.Dispose();
    }

    private void BeforePoll(IConsumer<byte[]?, byte[]> consumer)
    {
        var now = _time.GetUtcNow();
        if (_stopping)
        {
            foreach (var state in _partitions.Values)
            {
                if (state.Pending is null && state.Buffer.HasUnwrittenProgress)
                {
                    Flush(consumer, state, FlushReason.Shutdown, now);
                }
            }

            _loop.Stop();
            return;
        }

        ResumeAssigned(consumer);
        ApplyPauseRequest(consumer);
        CommitWarehouseOffsetsAhead(consumer);

        List<(PartitionState State, FlushReason Reason)>? due = null;
        foreach (var state in _partitions.Values)
        {
            if (state.ResumeReadingAt is { } resumeAt && now >= resumeAt)
            {
                // The registry was away: read again from the record that could not be decoded.
                state.ResumeReadingAt = null;
                consumer.Seek(new TopicPartitionOffset(state.Partition, state.ReadAgainFrom));
                ResumeIfPaused(consumer, state);
            }
            else if (state.Pending is { } pending && now >= pending.NextAttemptAt)
            {
                Attempt(consumer, state, now);
            }
            else if (state.Pending is null && state.ResumeReadingAt is null && state.Buffer.Due(now) is var reason and not FlushReason.None)
            {
                (due ??= []).Add((state, reason));
            }
        }

        if (due is { Count: 1 })
        {
            Flush(consumer, due[0].State, due[0].Reason, now);
        }
        else if (due is not null)
        {
            FlushTogether(consumer, due, now);
        }
    }

    /// <summary>
    /// Partitions due at the same poll (their timers start together under steady traffic) are written in one
    /// warehouse transaction, each with its own offset, and committed to Kafka at once: a transaction and a
    /// Kafka commit per partition each second made the task's thread fall behind at a few hundred events/s.
    /// If the write fails, each partition retries its own rows on its own schedule, as if flushed alone.
    /// </summary>
    private void FlushTogether(IConsumer<byte[]?, byte[]> consumer, List<(PartitionState State, FlushReason Reason)> due, DateTimeOffset now)
    {
        var drained = new List<(PartitionState State, FlushReason Reason, List<WarehouseRow> Rows, long NextOffset)>(due.Count);
        var rows = new List<WarehouseRow>();
        var offsets = new List<StoredOffset>(due.Count);
        foreach (var (state, reason) in due)
        {
            var (partitionRows, next) = state.Buffer.Drain();
            drained.Add((state, reason, partitionRows, next));
            rows.AddRange(partitionRows);
            if (next >= 0)
            {
                offsets.Add(new StoredOffset(state.Partition.Topic, state.Partition.Partition.Value, next));
            }
        }

        try
        {
            Write(rows, offsets);
        }
        catch (DestinationException e)
        {
            foreach (var (state, reason, partitionRows, next) in drained)
            {
                var pending = state.Pending = new PendingWrite(partitionRows, next, now, reason) { Attempts = 1, LastAttempt = now };
                Failed(consumer, state, pending, e, now);
            }

            return;
        }

        _setupProblem = null;
        foreach (var (_, reason, _, _) in drained)
        {
            _metrics.Flushed(reason);
        }

        CommitToKafka(consumer, [.. drained.Where(d => d.NextOffset >= 0).Select(d => new TopicPartitionOffset(d.State.Partition, d.NextOffset))]);
    }

    // librdkafka keeps a partition's pause across a rebalance: one paused for a retry, revoked, and
    // assigned again would stay paused while its new state says otherwise, and never be read again.
    // So an assignment starts unpaused, before its first poll (a paused connector pauses it again).
    private void ResumeAssigned(IConsumer<byte[]?, byte[]> consumer)
    {
        if (_resumePending is { } assigned)
        {
            _resumePending = null;
            // Not those revoked since, nor those its first records paused already.
            consumer.Resume([.. assigned.Where(p => _partitions.TryGetValue(p, out var state) && !state.Paused)]);
        }
    }

    /// <summary>Pauses (or resumes) the whole assignment on the loop's thread, leaving partitions paused for retries paused.</summary>
    private void ApplyPauseRequest(IConsumer<byte[]?, byte[]> consumer)
    {
        if (_pauseRequested)
        {
            // Newly assigned partitions are paused too, so every poll while paused.
            consumer.Pause(consumer.Assignment);
            _pausedByRequest = true;
        }
        else if (_pausedByRequest)
        {
            _pausedByRequest = false;
            consumer.Resume([.. consumer.Assignment.Where(p => !_partitions.TryGetValue(p, out var state) || !state.Paused)]);
        }
    }

    private void OnRecord(ConsumeResult<byte[]?, byte[]> record)
    {
        var partition = record.TopicPartition;
        if (!_partitions.TryGetValue(partition, out var state))
        {
            state = _partitions[partition] = new PartitionState(partition, new PartitionBuffer(_settings.Flush));
        }

        if (state.ResumeReadingAt is not null)
        {
            // Fetched before the pause: it is read again from ReadAgainFrom.
            return;
        }

        var now = _time.GetUtcNow();
        var position = new RecordPosition(record.Topic, record.Partition.Value, record.Offset.Value);
        TransformOutcome outcome;
        try
        {
            var task = _transformer.TransformAsync(position, record.Message.Value, CancellationToken.None);
            outcome = task.IsCompleted ? task.Result : task.AsTask().GetAwaiter().GetResult();
        }
        catch (SchemaUnavailableException e)
        {
            var delay = _settings.Backoff.Delay(Math.Min(state.RegistryFailures++, 10));
            SinkLog.RegistryUnavailable(_logger, e, record.Topic, record.Partition.Value, delay, record.Offset.Value);
            state.ReadAgainFrom = record.Offset.Value;
            state.ResumeReadingAt = now + delay;
            Pause(_loop.Consumer, state);
            return;
        }

        state.RegistryFailures = 0;
        if (outcome.Row is { } row)
        {
            row.AcceptedAt = AcceptedAt(record);
            state.Buffer.Add(row, now);
        }
        else
        {
            SendToDeadLetters(record.Message.Value ?? [], outcome.ErrorType!, outcome.ErrorMessage!, 0, now, now, position, eventId: null);
            state.Buffer.Advance(position.Offset, now);
        }

        if (state.Pending is null && state.Buffer.Due(now) is var reason and not FlushReason.None)
        {
            Flush(_loop.Consumer, state, reason, now);
        }
    }

    private void Flush(IConsumer<byte[]?, byte[]> consumer, PartitionState state, FlushReason reason, DateTimeOffset now)
    {
        var (rows, next) = state.Buffer.Drain();
        state.Pending = new PendingWrite(rows, next, now, reason);
        Attempt(consumer, state, now);
    }

    private void Attempt(IConsumer<byte[]?, byte[]> consumer, PartitionState state, DateTimeOffset now)
    {
        var pending = state.Pending!;
        pending.Attempts++;
        pending.LastAttempt = now;
        try
        {
            if (pending.Isolating)
            {
                WriteOneByOne(state, pending, now);
            }
            else
            {
                Write(pending.Rows, state, pending.NextOffset);
            }
        }
        catch (DestinationException e)
        {
            Failed(consumer, state, pending, e, now);
            return;
        }

        _metrics.Flushed(pending.Reason);
        _setupProblem = null;
        if (pending.Attempts > 1)
        {
            SinkLog.PartitionResumed(_logger, state.Partition.Topic, state.Partition.Partition.Value, pending.Attempts);
        }

        state.Pending = null;
        CommitToKafka(consumer, state.Partition, pending.NextOffset);
        ResumeIfPaused(consumer, state);
    }

    private void Failed(IConsumer<byte[]?, byte[]> consumer, PartitionState state, PendingWrite pending, DestinationException e, DateTimeOffset now)
    {
        _metrics.Retried();
        var attempt = pending.Attempts;
        if (e.Kind == DestinationErrorKind.RowsRejected && attempt >= _settings.MaxAttempts && !pending.Isolating)
        {
            // The warehouse refuses something in the batch: find the bad rows, write the good ones.
            pending.Isolating = true;
            pending.NextAttemptAt = now;
            Pause(consumer, state);
            return;
        }

        // A setup error waits the longest delay at once: no retry soon will fix credentials or a table.
        var delay = e.Kind == DestinationErrorKind.Setup ? _settings.Backoff.MaxDelay : _settings.Backoff.Delay(Math.Min(attempt - 1, 30));
        if (e.RetryAfter is { } asked && asked > delay)
        {
            delay = asked;
        }

        if (e.Kind == DestinationErrorKind.Setup)
        {
            _setupProblem = e.Message;
            SinkLog.SetupError(_logger, e, state.Partition.Topic, state.Partition.Partition.Value, delay);
        }
        else if (attempt == _settings.MaxAttempts)
        {
            SinkLog.PartitionPaused(_logger, attempt, state.Partition.Topic, state.Partition.Partition.Value, _settings.Backoff.MaxDelay);
            _metrics.Paused();
        }
        else
        {
            SinkLog.WriteFailed(_logger, e, pending.Rows.Count, state.Partition.Topic, state.Partition.Partition.Value, attempt, e.Kind.ToString(), delay);
        }

        pending.NextAttemptAt = now + delay;
        Pause(consumer, state);
    }

    /// <summary>
    /// When the platform accepted the record: the gateway's <see cref="AcceptedAtHeader"/>; for
    /// records that did not come through the gateway (or whose header is not ours), the Kafka
    /// record's timestamp.
    /// </summary>
    private static DateTimeOffset? AcceptedAt(ConsumeResult<byte[]?, byte[]> record)
    {
        if (record.Message.Headers is { } headers && headers.TryGetLastBytes(AcceptedAtHeader.Name, out var value)
            && AcceptedAtHeader.TryParse(value, out var accepted))
        {
            return accepted;
        }

        return record.Message.Timestamp.Type == TimestampType.NotAvailable ? null : DateTimeOffset.FromUnixTimeMilliseconds(record.Message.Timestamp.UnixTimestampMs);
    }

    private void Write(IReadOnlyList<WarehouseRow> rows, PartitionState state, long nextOffset) =>
        Write(rows, nextOffset >= 0 ? [new StoredOffset(state.Partition.Topic, state.Partition.Partition.Value, nextOffset)] : []);

    private void Write(IReadOnlyList<WarehouseRow> rows, IReadOnlyList<StoredOffset> offsets)
    {
        _destination.WriteAsync(_settings.ClusterId, rows, offsets, CancellationToken.None).GetAwaiter().GetResult();
        _metrics.Committed(rows, _time.GetUtcNow());
        var events = rows.Count(r => r is EventRow);
        if (events > 0)
        {
            _metrics.Written("events", events);
        }

        if (rows.Count - events > 0)
        {
            _metrics.Written("aggregated_events", rows.Count - events);
        }
    }

    /// <summary>Each row alone: the refused ones go to the DLQ; an outage stops the walk (rows written so far are upserts, so it starts over safely).</summary>
    private void WriteOneByOne(PartitionState state, PendingWrite pending, DateTimeOffset now)
    {
        foreach (var row in pending.Rows)
        {
            try
            {
                Write([row], state, -1);
            }
            catch (DestinationException e) when (e.Kind == DestinationErrorKind.RowsRejected)
            {
                SendToDeadLetters(row.OriginalMessage, "SINK_WRITE_REJECTED", e.Message, _settings.MaxAttempts, pending.FirstAttempt, now, row.Source, (row as EventRow)?.EventId);
            }
        }

        Write([], state, pending.NextOffset);
    }

    /// <param name="eventId">The event's id when the record could be read as an event (for the log line), else null.</param>
    private void SendToDeadLetters(byte[] original, string errorType, string message, int retries, DateTimeOffset first, DateTimeOffset last, RecordPosition source, string? eventId)
    {
        var dlq = new DlqMessage(original, errorType, message, retries, first, last, source.Topic, source.Partition, source.Offset);
        var value = JsonSerializer.SerializeToUtf8Bytes(dlq, CoreJsonContext.Default.DlqMessage);
        var key = System.Text.Encoding.UTF8.GetBytes($"{source.Topic}/{source.Partition}/{source.Offset}");
        // Acknowledged before the offset past it can reach the warehouse: a DLQ'd record is never lost.
        _dlq.ProduceAsync(TopicPlan.DeadLetter, new Message<byte[]?, byte[]> { Key = key, Value = value }).GetAwaiter().GetResult();
        _metrics.DeadLetter(errorType);
        SinkLog.DeadLettered(_logger, source.Topic, source.Partition, source.Offset, eventId ?? "-", errorType, message);
    }

    /// <summary>
    /// A kill between the warehouse commit and the Kafka commit leaves the group behind the warehouse; when
    /// nothing is left to read the sink would never commit again, and lag would stay wrong for ever. The
    /// warehouse's offsets are already durable with their rows, so committing them is safe.
    /// </summary>
    private void CommitWarehouseOffsetsAhead(IConsumer<byte[]?, byte[]> consumer)
    {
        if (_warehouseOffsetsToCompare.Count == 0)
        {
            return;
        }

        var stored = _warehouseOffsetsToCompare.Where(o => _partitions.ContainsKey(o.TopicPartition)).ToList();
        _warehouseOffsetsToCompare.Clear();
        try
        {
            var committed = consumer.Committed(stored.Select(o => o.TopicPartition), TimeSpan.FromSeconds(10))
                .ToDictionary(o => o.TopicPartition, o => o.Offset.Value);
            var ahead = stored.Where(o => !committed.TryGetValue(o.TopicPartition, out var group) || group < o.Offset.Value).ToList();
            if (ahead.Count > 0)
            {
                consumer.Commit(ahead);
            }
        }
        catch (KafkaException e)
        {
            SinkLog.KafkaCommitFailed(_logger, e);
        }
    }

    private void CommitToKafka(IConsumer<byte[]?, byte[]> consumer, TopicPartition partition, long nextOffset)
    {
        if (nextOffset >= 0)
        {
            CommitToKafka(consumer, [new TopicPartitionOffset(partition, nextOffset)]);
        }
    }

    private void CommitToKafka(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            SinkLog.KafkaCommitFailed(_logger, e);
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> assigned)
    {
        WarehouseOffsets? stored = null;
        Exception? failure = null;
        try
        {
            stored = _destination.ReadOffsetsAsync(_settings.ClusterId, CancellationToken.None).GetAwaiter().GetResult();
            if (stored.OtherClusters.Count > 0)
            {
                SinkLog.ForeignOffsets(_logger, string.Join(", ", stored.OtherClusters), _settings.ClusterId);
            }
        }
        catch (DestinationException e)
        {
            failure = e;
        }

        var positions = new List<TopicPartitionOffset>(assigned.Count);
        foreach (var partition in assigned)
        {
            _partitions[partition] = new PartitionState(partition, new PartitionBuffer(_settings.Flush));
            var match = stored?.Offsets.FirstOrDefault(o => o.Topic == partition.Topic && o.Partition == partition.Partition.Value);
            if (failure is not null)
            {
                SinkLog.OffsetsUnreadable(_logger, failure, partition.Topic, partition.Partition.Value);
            }

            if (match is { } offset)
            {
                SinkLog.Assigned(_logger, partition.Topic, partition.Partition.Value, offset.NextOffset.ToString(System.Globalization.CultureInfo.InvariantCulture), "the warehouse's offset");
                positions.Add(new TopicPartitionOffset(partition, offset.NextOffset));
                _warehouseOffsetsToCompare.Add(new TopicPartitionOffset(partition, offset.NextOffset));
            }
            else
            {
                // The group's committed offset is never ahead of the warehouse (committed after it), else the earliest.
                positions.Add(new TopicPartitionOffset(partition, Offset.Unset));
            }
        }

        _resumePending = [.. assigned];
        Volatile.Write(ref _assignedCount, _partitions.Count);
        return positions;
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]> consumer, IEnumerable<TopicPartition> revoked, string reason)
    {
        var now = _time.GetUtcNow();
        foreach (var partition in revoked)
        {
            if (!_partitions.Remove(partition, out var state))
            {
                continue;
            }

            if (state.Pending is null && state.Buffer.HasUnwrittenProgress && state.ResumeReadingAt is null)
            {
                // One attempt: what is not written is read again by the next owner from the warehouse's offset.
                var (rows, next) = state.Buffer.Drain();
                try
                {
                    Write(rows, state, next);
                    _metrics.Flushed(FlushReason.Shutdown);
                    CommitToKafka(consumer, partition, next);
                }
                catch (DestinationException e)
                {
                    SinkLog.RevokedUnwritten(_logger, e, partition.Topic, partition.Partition.Value, rows.Count, reason);
                }
            }
            else if (state.Pending is { } pending)
            {
                SinkLog.RevokedUnwritten(_logger, null, partition.Topic, partition.Partition.Value, pending.Rows.Count + state.Buffer.Count, reason + " while its write was being retried");
            }
        }

        Volatile.Write(ref _assignedCount, _partitions.Count);
    }

    private void OnLost(IEnumerable<TopicPartition> lost)
    {
        // Another member may own them already: write nothing, the warehouse's offsets say where to resume.
        foreach (var partition in lost)
        {
            _partitions.Remove(partition);
        }

        Volatile.Write(ref _assignedCount, _partitions.Count);
    }

    private static void Pause(IConsumer<byte[]?, byte[]> consumer, PartitionState state)
    {
        if (!state.Paused)
        {
            consumer.Pause([state.Partition]);
            state.Paused = true;
        }
    }

    private static void ResumeIfPaused(IConsumer<byte[]?, byte[]> consumer, PartitionState state)
    {
        if (state.Paused && state.Pending is null && state.ResumeReadingAt is null)
        {
            consumer.Resume([state.Partition]);
            state.Paused = false;
        }
    }

    private sealed class PartitionState(TopicPartition partition, PartitionBuffer buffer)
    {
        public TopicPartition Partition { get; } = partition;

        public PartitionBuffer Buffer { get; } = buffer;

        /// <summary>A batch being written (and retried); the partition is paused while it is.</summary>
        public PendingWrite? Pending { get; set; }

        public bool Paused { get; set; }

        /// <summary>Set while the registry is away: when to read again, from <see cref="ReadAgainFrom"/>.</summary>
        public DateTimeOffset? ResumeReadingAt { get; set; }

        public long ReadAgainFrom { get; set; }

        public int RegistryFailures { get; set; }
    }

    private sealed class PendingWrite(List<WarehouseRow> rows, long nextOffset, DateTimeOffset firstAttempt, FlushReason reason)
    {
        public List<WarehouseRow> Rows { get; } = rows;

        public long NextOffset { get; } = nextOffset;

        public DateTimeOffset FirstAttempt { get; } = firstAttempt;

        public FlushReason Reason { get; } = reason;

        public int Attempts { get; set; }

        public DateTimeOffset LastAttempt { get; set; }

        public DateTimeOffset NextAttemptAt { get; set; }

        /// <summary>After the attempts, refused rows are looked for one by one.</summary>
        public bool Isolating { get; set; }
    }
}
