using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Consuming;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Topics;

/// <summary>
/// Reads every partition of a topic from its start, in order, on a thread of its own, handing each
/// record to its owner, and lets callers wait until a given offset has been read and applied. The
/// pattern of a state kept in a Kafka topic (the gateway's idempotency keys, the schema registry's
/// schemas): append, then wait to read your own record back.
/// </summary>
/// <remarks>
/// <para>
/// The partition count is the cluster's, found when starting (a topic auto-created with the
/// broker's default count is followed whole), except for a <see cref="TopicFollowerSettings.SinglePartition"/>
/// log, which is partition 0 alone.
/// </para>
/// <para>
/// Errors: transient ones (brokers down, leader changes) are retried by the client and logged at
/// most once per <see cref="TopicFollowerSettings.ErrorLogInterval"/>. A fatal one (a fatal client
/// error, an authorization failure, or the topic or a partition staying unknown or unauthenticated
/// for <see cref="TopicFollowerSettings.PersistentErrorGrace"/>) stops the follower: it is logged
/// as critical, every waiter and later caller gets a <see cref="TopicFollowerException"/>, and
/// the owner's <c>onFatal</c> is called once, on a thread-pool thread (a host stops itself there:
/// its state can no longer be kept up to date, and serving from a stale copy would break its promises).
/// </para>
/// <para>
/// With <see cref="TopicFollowerSettings.ReadOnDemand"/>, a partition is fetched after the start only
/// while something needs its records: a waiter, or a <see cref="Want"/> not yet expired. An owner
/// that applies its own records itself (at their acknowledgement) moves the position past them with
/// <see cref="Advance"/>, so a log that only this process writes is never fetched back. Reading
/// resumes from the position when needed: a gap between the position and an owner's own record is
/// someone else's records.
/// </para>
/// <para>Thread-safe. Reading runs on a <see cref="ConsumeLoop{TKey, TValue}"/>; disposing stops it, which closes the consumer, then disposes it.</para>
/// </remarks>
public sealed partial class TopicFollower : IDisposable
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ConsumeLoop<byte[]?, byte[]?> _loop;
    private readonly IAdminClient _inspector;
    private readonly TopicFollowerSettings _settings;
    private readonly Lock _gate;
    private readonly Action<ConsumeResult<byte[]?, byte[]?>> _apply;
    private readonly Action<TopicFollowerException> _onFatal;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    // Reading on demand: which partitions are assigned, until when they are wanted, taken in this
    // order: _demand, then _gate. Assigning and unassigning are librdkafka calls, safe from any thread.
    private readonly Lock _demand = new();
    private bool[] _reading = [];
    private long[] _wantedUntil = [];
    private bool _onDemand;
    private readonly CancellationTokenSource _stop = new();
    private long[] _positions = [];
    private PriorityQueue<TaskCompletionSource, long>[] _waiters = [];
    private TopicFollowerException? _failure;
    private int _disposed;

    // Error bookkeeping, touched only by the reading thread (librdkafka calls the error handler from Consume).
    private DateTimeOffset _lastErrorLog = DateTimeOffset.MinValue;
    private int _unloggedErrors;
    private Error? _persistentError;
    private DateTimeOffset _persistentSince;
    private DateTimeOffset _lastPersistentErrorAt;
    private DateTimeOffset _lastProbe;

    /// <param name="kafka">Where the cluster is and how to reach it.</param>
    /// <param name="settings">The topic and how to read it.</param>
    /// <param name="gate">The owner's lock, which the owner's <paramref name="apply"/> takes to change its state.</param>
    /// <param name="apply">
    /// Applies one record to the owner's state, on the follower's thread, not under
    /// <paramref name="gate"/> (so it can decode first); the offset counts as read only after it returns.
    /// </param>
    /// <param name="onFatal">Told once when the follower stops for good (see the remarks); the host wires it to stopping the service.</param>
    /// <param name="logger">The owner's logger.</param>
    /// <param name="time">The clock of the error bookkeeping.</param>
    public TopicFollower(
        KafkaOptions kafka,
        TopicFollowerSettings settings,
        Lock gate,
        Action<ConsumeResult<byte[]?, byte[]?>> apply,
        Action<TopicFollowerException> onFatal,
        ILogger logger,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _gate = gate;
        _apply = apply;
        _onFatal = onFatal;
        _logger = logger;
        _time = time ?? TimeProvider.System;

        // Assigned rather than subscribed (the group id is never used), short fetch waits (callers
        // wait for their own records), no end-of-partition events, and never auto-creating the topic.
        var config = KafkaClientConfig.ForConsumer(kafka, settings.ClientId, kafka.BootstrapServers!, "unused");
        config.FetchWaitMaxMs = settings.FetchWaitMaxMs;
        config.FetchMinBytes = 1;
        config.EnablePartitionEof = false;
        config.AllowAutoCreateTopics = false;
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, error) => OnError(error))
            .Build();
        _inspector = new DependentAdminClientBuilder(_consumer.Handle).Build();
        _loop = new ConsumeLoop<byte[]?, byte[]?>(_consumer, settings.ThreadName, new()
        {
            OnRecord = OnRecord,
            OnIdle = OnIdle,
            OnConsumeError = e => OnError(e.Error),
            OnFailure = OnLoopFailure,
        }, PollTimeout);
    }

    /// <summary>The topic.</summary>
    public string Topic => _settings.Topic;

    /// <summary>How many partitions are followed (known once started).</summary>
    public int Partitions => _positions.Length;

    /// <summary>Why the follower stopped for good; null while it is healthy.</summary>
    public TopicFollowerException? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>
    /// Waits (up to <see cref="TopicFollowerSettings.ReadyTimeout"/>) until the topic exists with a
    /// leader for every partition, starts reading every partition (from its low watermark, or from
    /// <see cref="TopicFollowerSettings.StartFrom"/>), and waits until everything the topic held at
    /// the start has been applied; returns the high watermarks found then. There is no overall
    /// deadline: a large topic takes as long as it takes, with progress logged, and only a stretch of
    /// <see cref="TopicFollowerSettings.StallTimeout"/> without progress fails.
    /// </summary>
    /// <exception cref="TopicFollowerException">The topic never became usable, or a fatal error stopped the follower.</exception>
    /// <exception cref="TimeoutException">Reading stopped making progress before the end.</exception>
    public async Task<long[]> StartAsync(CancellationToken cancellationToken)
    {
        var partitions = await WaitForPartitionsAsync(cancellationToken).ConfigureAwait(false);
        if (_settings.SinglePartition && partitions > 1)
        {
            LogExtraPartitions(_logger, Topic, partitions);
        }

        var followed = _settings.SinglePartition ? 1 : partitions;
        var ends = await Task.Run(() => Start(followed), cancellationToken).ConfigureAwait(false);
        var caughtUp = WaitUntilReadAsync(ends, cancellationToken);
        var started = _time.GetUtcNow();
        var lastProgressAt = started;
        var lastLogAt = started;
        var read = ReadSoFar();
        var first = read;
        var total = ends.Sum() - first;
        while (await Task.WhenAny(caughtUp, Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken)).ConfigureAwait(false) != caughtUp)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = _time.GetUtcNow();
            var position = ReadSoFar();
            if (position != read)
            {
                read = position;
                lastProgressAt = now;
            }
            else if (now - lastProgressAt >= _settings.StallTimeout)
            {
                throw new TimeoutException($"Reading topic '{Topic}' to its end made no progress for {_settings.StallTimeout.TotalSeconds:0} s ({read - first} of {total} records read).");
            }

            if (now - lastLogAt >= _settings.ProgressLogInterval)
            {
                LogCatchUpProgress(_logger, Topic, read - first, total, (now - started).TotalSeconds);
                lastLogAt = now;
            }
        }

        await caughtUp.ConfigureAwait(false);
        if (_settings.ReadOnDemand)
        {
            lock (_demand)
            {
                _onDemand = true;
            }

            for (var p = 0; p < followed; p++)
            {
                StopIfUnwanted(p);
            }
        }

        return ends;
    }

    /// <summary>The sum of the partitions' next offsets to read.</summary>
    private long ReadSoFar()
    {
        lock (_gate)
        {
            return _positions.Sum();
        }
    }

    private async Task<int> WaitForPartitionsAsync(CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _settings.ReadyTimeout;
        var delay = TimeSpan.FromMilliseconds(50);
        string state;
        while (true)
        {
            try
            {
                var metadata = await Task.Run(() => _inspector.GetMetadata(Topic, _settings.Timeout), cancellationToken).ConfigureAwait(false);
                var topic = metadata.Topics.FirstOrDefault(t => t.Topic == Topic);
                if (topic is { Error.Code: ErrorCode.NoError, Partitions.Count: > 0 } && topic.Partitions.All(p => p.Leader >= 0))
                {
                    return topic.Partitions.Count;
                }

                state = topic is null || topic.Error.Code != ErrorCode.NoError
                    ? $"it does not exist ({topic?.Error.Code ?? ErrorCode.UnknownTopicOrPart})"
                    : "not every partition has a leader";
                if (topic is not null && Classify(topic.Error) == TopicReadErrorKind.Fatal)
                {
                    throw Fail(topic.Error, $"topic '{Topic}' cannot be read: {topic.Error.Code} {topic.Error.Reason}");
                }
            }
            catch (KafkaException e) when (e is not TopicFollowerException)
            {
                state = $"the cluster did not answer ({e.Error.Code} {e.Error.Reason})";
            }

            if (_time.GetUtcNow() >= deadline)
            {
                throw new TopicFollowerException(Topic, new Error(ErrorCode.UnknownTopicOrPart),
                    $"Topic '{Topic}' is not readable after {_settings.ReadyTimeout.TotalSeconds:0.#} s: {state}.");
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    private long[] Start(int partitions)
    {
        var ends = new long[partitions];
        var positions = new long[partitions];
        var assignment = new List<TopicPartitionOffset>(partitions);
        for (var p = 0; p < partitions; p++)
        {
            WatermarkOffsets marks;
            try
            {
                marks = _consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), _settings.Timeout);
            }
            catch (KafkaException e)
            {
                throw new TopicFollowerException(Topic, e.Error, $"The offsets of topic '{Topic}' partition {p} cannot be read: {e.Error.Code} {e.Error.Reason}.");
            }

            ends[p] = marks.High.Value;
            positions[p] = marks.Low.Value;
        }

        if (_settings.StartFrom is { } from)
        {
            StartAt(from, positions, ends);
        }

        for (var p = 0; p < partitions; p++)
        {
            assignment.Add(new TopicPartitionOffset(Topic, p, positions[p]));
        }

        lock (_demand)
        {
            _reading = [.. Enumerable.Repeat(true, partitions)];
            _wantedUntil = new long[partitions];
        }

        lock (_gate)
        {
            _positions = positions;
            _waiters = [.. Enumerable.Range(0, partitions).Select(_ => new PriorityQueue<TaskCompletionSource, long>())];
        }

        _consumer.Assign(assignment);
        _loop.Start(_stop.Token);
        return ends;
    }

    /// <summary>
    /// Moves each partition's start to the first record at or after <paramref name="from"/> (by the
    /// records' timestamps); a partition whose records are all older starts at its end. If the
    /// cluster cannot say, the partition is read from its low watermark (slower, never wrong).
    /// </summary>
    private void StartAt(DateTimeOffset from, long[] positions, long[] ends)
    {
        try
        {
            // A cluster without a time index (librdkafka's mock cluster) answers "no such record"
            // even for time 0; a non-empty partition must then be read whole.
            var sure = _consumer.OffsetsForTimes(
                [.. Enumerable.Range(0, positions.Length).Select(p => new TopicPartitionTimestamp(Topic, p, new Timestamp(DateTimeOffset.UnixEpoch)))], _settings.Timeout);
            var found = _consumer.OffsetsForTimes(
                [.. Enumerable.Range(0, positions.Length).Select(p => new TopicPartitionTimestamp(Topic, p, new Timestamp(from)))], _settings.Timeout);
            var indexed = sure.All(r => r.Offset.Value >= 0 || positions[r.Partition.Value] >= ends[r.Partition.Value]);
            if (!indexed)
            {
                LogNoTimeIndex(_logger, Topic, ErrorCode.NoError, "offsets by time are not supported");
                return;
            }

            foreach (var r in found)
            {
                var p = r.Partition.Value;
                var offset = r.Offset.Value < 0 ? ends[p] : r.Offset.Value;
                positions[p] = Math.Clamp(offset, positions[p], ends[p]);
            }
        }
        catch (KafkaException e)
        {
            LogNoTimeIndex(_logger, Topic, e.Error.Code, e.Error.Reason);
        }
    }

    /// <summary>The partitions' high watermarks now (what has been written so far).</summary>
    /// <exception cref="KafkaException">The cluster did not answer, or the follower has stopped (<see cref="TopicFollowerException"/>).</exception>
    public long[] HighWatermarks(TimeSpan timeout)
    {
        if (Failure is { } failure)
        {
            throw failure;
        }

        return [.. Enumerable.Range(0, _positions.Length).Select(p => _consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), timeout).High.Value)];
    }

    /// <summary>The next offset to read of each followed partition (everything before it has been applied).</summary>
    public long[] Positions()
    {
        lock (_gate)
        {
            return [.. _positions];
        }
    }

    /// <summary>Waits until the record at <paramref name="offset"/> of <paramref name="partition"/> has been read and applied.</summary>
    /// <exception cref="TopicFollowerException">The follower has stopped for good.</exception>
    public Task WaitUntilReadAsync(int partition, long offset, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            if (partition >= _positions.Length)
            {
                // Partitions added to the topic after start are not followed: only a restart sees them.
                return Task.FromException(new TopicFollowerException(Topic, new Error(ErrorCode.Local_UnknownPartition),
                    $"Partition {partition} of topic '{Topic}' is not followed (it has {_positions.Length}); restart to follow partitions added since start."));
            }

            if (_positions[partition] > offset)
            {
                return Task.CompletedTask;
            }

            // Each waiter is woken only by the record it waits for, not by every record read.
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[partition].Enqueue(waiter, offset);
        }

        EnsureReading(partition);
        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Completes <paramref name="waiter"/> once the record at <paramref name="offset"/> of
    /// <paramref name="partition"/> has been read and applied (or fails it when the follower stops):
    /// <see cref="WaitUntilReadAsync(int, long, CancellationToken)"/> without a task of its own, for
    /// callers that already hold one (a producer's delivery handler, say).
    /// </summary>
    public void CompleteWhenRead(int partition, long offset, TaskCompletionSource waiter)
    {
        ArgumentNullException.ThrowIfNull(waiter);
        Exception? failure = null;
        var read = false;
        lock (_gate)
        {
            if (_failure is not null)
            {
                failure = _failure;
            }
            else if (partition >= _positions.Length)
            {
                failure = new TopicFollowerException(Topic, new Error(ErrorCode.Local_UnknownPartition),
                    $"Partition {partition} of topic '{Topic}' is not followed (it has {_positions.Length}); restart to follow partitions added since start.");
            }
            else if (_positions[partition] > offset)
            {
                read = true;
            }
            else
            {
                _waiters[partition].Enqueue(waiter, offset);
            }
        }

        // Completed outside the gate: a waiter's continuation may run on this thread.
        if (failure is not null)
        {
            waiter.TrySetException(failure);
        }
        else if (read)
        {
            waiter.TrySetResult();
        }
        else
        {
            EnsureReading(partition);
        }
    }

    /// <summary>
    /// The owner has applied every record of <paramref name="partition"/> below <paramref name="offset"/>
    /// itself (its own, at their acknowledgement): they count as read, and are not fetched unless
    /// reading is under way already (a record below the position is then handed over again; the owner skips it).
    /// </summary>
    public void Advance(int partition, long offset)
    {
        List<TaskCompletionSource>? ready;
        lock (_gate)
        {
            if (partition >= _positions.Length || _positions[partition] >= offset)
            {
                return;
            }

            _positions[partition] = offset;
            ready = ReleaseWaitersLocked(partition, offset - 1);
        }

        Complete(ready);
    }

    /// <summary>
    /// Keeps reading <paramref name="partition"/> for at least <paramref name="duration"/> from now
    /// (resuming from its position if it was stopped): for callers that wait for what others write
    /// there rather than for a given offset. Without <see cref="TopicFollowerSettings.ReadOnDemand"/> every partition is always read.
    /// </summary>
    public void Want(int partition, TimeSpan duration)
    {
        var until = _time.GetTimestamp() + (long)(duration.TotalSeconds * _time.TimestampFrequency);
        lock (_demand)
        {
            if (partition >= _wantedUntil.Length)
            {
                return;
            }

            _wantedUntil[partition] = Math.Max(_wantedUntil[partition], until);
        }

        EnsureReading(partition);
    }

    /// <summary>Whether <paramref name="partition"/> is being fetched now (always so without <see cref="TopicFollowerSettings.ReadOnDemand"/>).</summary>
    public bool IsReading(int partition)
    {
        lock (_demand)
        {
            return partition < _reading.Length && _reading[partition];
        }
    }

    /// <summary>Starts fetching <paramref name="partition"/> from its position if it is stopped.</summary>
    private void EnsureReading(int partition)
    {
        Error? failed = null;
        lock (_demand)
        {
            if (partition >= _reading.Length || _reading[partition] || _stop.IsCancellationRequested)
            {
                return;
            }

            long from;
            lock (_gate)
            {
                from = _positions[partition];
            }

            try
            {
                _consumer.IncrementalAssign([new TopicPartitionOffset(Topic, partition, from)]);
                _reading[partition] = true;
            }
            catch (KafkaException e) when (!_stop.IsCancellationRequested)
            {
                failed = e.Error;
            }
        }

        // Outside the lock: failing completes waiters, whose continuations may run on this thread.
        if (failed is not null)
        {
            // Someone waits for records that can now never come: the state cannot be kept.
            Fail(failed, $"topic '{Topic}' partition {partition} cannot be read again: {failed.Code} {failed.Reason}");
        }
    }

    /// <summary>On the reading thread: stops fetching <paramref name="partition"/> when nothing needs it.</summary>
    private void StopIfUnwanted(int partition)
    {
        if (!_settings.ReadOnDemand)
        {
            return;
        }

        lock (_demand)
        {
            if (!_onDemand || !_reading[partition] || _wantedUntil[partition] > _time.GetTimestamp() || _stop.IsCancellationRequested)
            {
                return;
            }

            lock (_gate)
            {
                if (_waiters[partition].Count > 0)
                {
                    return;
                }
            }

            try
            {
                _consumer.IncrementalUnassign([new TopicPartition(Topic, partition)]);
                _reading[partition] = false;
            }
            catch (KafkaException)
            {
                // Still reading: costs a fetch now and then, changes nothing read.
            }
        }
    }

    private void OnIdle()
    {
        ProbeIfPersistentError();
        for (var p = 0; p < _reading.Length; p++)
        {
            StopIfUnwanted(p);
        }
    }

    /// <summary>Waits until everything before <paramref name="ends"/> (one end offset per partition) has been read.</summary>
    public async Task WaitUntilReadAsync(long[] ends, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ends);
        for (var p = 0; p < ends.Length; p++)
        {
            await WaitUntilReadAsync(p, ends[p] - 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnRecord(ConsumeResult<byte[]?, byte[]?> record)
    {
        _persistentError = null;
        _apply(record);
        var partition = record.Partition.Value;
        List<TaskCompletionSource>? ready;
        lock (_gate)
        {
            // Never backwards: the owner may have advanced past its own records already.
            _positions[partition] = Math.Max(_positions[partition], record.Offset.Value + 1);
            ready = ReleaseWaitersLocked(partition, record.Offset.Value);
        }

        Complete(ready);
        StopIfUnwanted(partition);
    }

    /// <summary>Takes the waiters of <paramref name="partition"/> for offsets up to <paramref name="read"/> out of its queue (under the gate); null when there are none.</summary>
    private List<TaskCompletionSource>? ReleaseWaitersLocked(int partition, long read)
    {
        List<TaskCompletionSource>? ready = null;
        var waiters = _waiters[partition];
        while (waiters.TryPeek(out var waiter, out var offset) && offset <= read)
        {
            waiters.Dequeue();
            (ready ??= []).Add(waiter);
        }

        return ready;
    }

    /// <summary>Completes released waiters, outside the gate: a waiter's continuation may run on this thread.</summary>
    private static void Complete(List<TaskCompletionSource>? ready)
    {
        if (ready is null)
        {
            return;
        }

        foreach (var waiter in ready)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>A fatal consume error, or the owner's <c>apply</c> throwing: either way the state can no longer be kept.</summary>
    private void OnLoopFailure(Exception failure)
    {
        var error = failure is KafkaException kafka
            ? kafka.Error
            : new Error(ErrorCode.Local_Fatal, $"applying a record failed: {failure.GetType().Name}: {failure.Message}", isFatal: true);
        Fail(error, $"topic '{Topic}' cannot be read: {error.Code} {error.Reason}");
    }

    /// <summary>How the follower treats an error it is told about.</summary>
    public static TopicReadErrorKind Classify(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.IsFatal)
        {
            return TopicReadErrorKind.Fatal;
        }

        return error.Code switch
        {
            ErrorCode.Local_Fatal or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed
                or ErrorCode.GroupAuthorizationFailed => TopicReadErrorKind.Fatal,
            ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic or ErrorCode.Local_UnknownPartition
                or ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed => TopicReadErrorKind.FatalIfPersistent,
            _ => TopicReadErrorKind.Transient,
        };
    }

    private void OnError(Error error)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        switch (Classify(error))
        {
            case TopicReadErrorKind.Fatal:
                Fail(error, $"topic '{Topic}' cannot be read: {error.Code} {error.Reason}");
                return;

            case TopicReadErrorKind.FatalIfPersistent:
                var now = _time.GetUtcNow();
                // An episode is errors of this kind with no healthy stretch of a whole grace period between them.
                if (_persistentError is null || now - _lastPersistentErrorAt > _settings.PersistentErrorGrace)
                {
                    _persistentSince = now;
                    _lastProbe = now;
                }

                _persistentError = error;
                _lastPersistentErrorAt = now;
                if (now - _persistentSince >= _settings.PersistentErrorGrace)
                {
                    Fail(error, $"topic '{Topic}' has been unreadable for {(now - _persistentSince).TotalSeconds:0} s: {error.Code} {error.Reason}");
                    return;
                }

                break;
        }

        LogTransient(error);
    }

    /// <summary>
    /// While the topic is reported unknown, asks the cluster about it now and then: librdkafka may
    /// report a vanished partition only once, so the grace period is judged on metadata too.
    /// </summary>
    private void ProbeIfPersistentError()
    {
        if (_persistentError is not { } error)
        {
            return;
        }

        var now = _time.GetUtcNow();
        if (now - _lastProbe < ProbeInterval)
        {
            return;
        }

        _lastProbe = now;
        try
        {
            // Short, on the reading thread: Dispose waits only a few seconds for it before freeing the clients.
            var topic = _inspector.GetMetadata(Topic, ProbeInterval).Topics.FirstOrDefault(t => t.Topic == Topic);
            if (topic is { Error.Code: ErrorCode.NoError } && topic.Partitions.Count >= _positions.Length && topic.Partitions.All(p => p.Leader >= 0))
            {
                _persistentError = null;
                return;
            }
        }
        catch (KafkaException)
        {
            // The cluster not answering is an outage, not a verdict on the topic: wait for the next probe.
            return;
        }

        if (now - _persistentSince >= _settings.PersistentErrorGrace)
        {
            Fail(error, $"topic '{Topic}' has been unreadable for {(now - _persistentSince).TotalSeconds:0} s: {error.Code} {error.Reason}");
        }
    }

    private void LogTransient(Error error)
    {
        var now = _time.GetUtcNow();
        if (now - _lastErrorLog < _settings.ErrorLogInterval)
        {
            _unloggedErrors++;
            return;
        }

        LogReadError(_logger, Topic, error.Code, error.Reason, _unloggedErrors);
        _lastErrorLog = now;
        _unloggedErrors = 0;
    }

    private TopicFollowerException Fail(Error error, string description)
    {
        var failure = new TopicFollowerException(Topic, error, $"Stopped following {description}.");
        List<TaskCompletionSource> waiting = [];
        lock (_gate)
        {
            if (_failure is not null)
            {
                return _failure;
            }

            _failure = failure;
            foreach (var queue in _waiters)
            {
                while (queue.TryDequeue(out var waiter, out _))
                {
                    waiting.Add(waiter);
                }
            }
        }

        _stop.Cancel();
        LogFatal(_logger, Topic, error.Code, error.Reason, description);
        foreach (var waiter in waiting)
        {
            waiter.TrySetException(failure);
        }

        // Not on the reading thread: stopping a host joins this thread.
        ThreadPool.QueueUserWorkItem(static state => state.Owner._onFatal(state.Failure), (Owner: this, Failure: failure), preferLocal: false);
        return failure;
    }

    /// <summary>Stops reading: waits for the reading thread, which closes the consumer.</summary>
    public void Stop()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _stop.Cancel();
            _loop.Stop();
        }
    }

    /// <summary>Stops reading and disposes the consumer. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _loop.Stop();
        // The inspector lives on the consumer's handle: it goes first.
        _inspector.Dispose();
        _loop.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Warning, Message = "Reading topic {Topic} failed, retrying: {Code} {Reason} ({Unlogged} more errors since the last report)")]
    private static partial void LogReadError(ILogger logger, string topic, ErrorCode code, string reason, int unlogged);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Critical, Message = "Stopped following topic {Topic}: {Code} {Reason}. The state kept in it can no longer be kept up to date ({Description})")]
    private static partial void LogFatal(ILogger logger, string topic, ErrorCode code, string reason, string description);

    [LoggerMessage(EventId = 1123, Level = LogLevel.Information, Message = "Reading topic {Topic}: {Read} of {Total} records after {Seconds:0.0} s")]
    private static partial void LogCatchUpProgress(ILogger logger, string topic, long read, long total, double seconds);

    [LoggerMessage(EventId = 1124, Level = LogLevel.Warning, Message = "Topic {Topic}: the cluster could not find offsets by time ({Code} {Reason}); reading from the start")]
    private static partial void LogNoTimeIndex(ILogger logger, string topic, ErrorCode code, string reason);

    [LoggerMessage(EventId = 1122, Level = LogLevel.Warning, Message = "Topic {Topic} has {Partitions} partitions but is a log of one: only partition 0 is read and written (records in the others are ignored). Recreate it with one partition")]
    private static partial void LogExtraPartitions(ILogger logger, string topic, int partitions);
}

/// <summary>How a <see cref="TopicFollower"/> treats an error.</summary>
public enum TopicReadErrorKind
{
    /// <summary>Retried by the client (brokers down, leader changes, timeouts); logged at a bounded rate.</summary>
    Transient,

    /// <summary>Stops the follower at once (fatal client errors, authorization failures).</summary>
    Fatal,

    /// <summary>Stops the follower when it lasts a whole grace period (unknown topic or partition, failed authentication).</summary>
    FatalIfPersistent,
}

/// <summary>How a <see cref="TopicFollower"/> reads its topic.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="ClientId">The consumer's client id.</param>
/// <param name="ThreadName">The reading thread's name.</param>
public sealed record TopicFollowerSettings(string Topic, string ClientId, string ThreadName)
{
    /// <summary>The consumer's fetch.wait.max.ms: callers wait for their own records, so keep it short.</summary>
    public int FetchWaitMaxMs { get; init; } = 10;

    /// <summary>
    /// After the start, fetch a partition only while something needs its records (see
    /// <see cref="TopicFollower.Want"/> and <see cref="TopicFollower.Advance"/>); false: follow every partition all the time.
    /// </summary>
    public bool ReadOnDemand { get; init; }

    /// <summary>
    /// Follow partition 0 only: the topic is one totally ordered log (the registry's <c>_schemas</c>).
    /// A topic with more partitions (auto-created with the broker's default) is warned about once.
    /// </summary>
    public bool SinglePartition { get; init; }

    /// <summary>How long one metadata or offsets request may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Start reading at the first record with this timestamp or later (null: from the low watermark).</summary>
    public DateTimeOffset? StartFrom { get; init; }

    /// <summary>Starting fails when reading to the end makes no progress for this long (there is no overall deadline).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often starting logs its progress while reading a large topic.</summary>
    public TimeSpan ProgressLogInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long starting waits for the topic to exist with a leader for every partition.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the topic may stay unknown (or authentication keep failing) before the follower gives up.</summary>
    public TimeSpan PersistentErrorGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Transient errors are logged at most once per this interval (the others are counted).</summary>
    public TimeSpan ErrorLogInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Settings with the timeouts of <paramref name="kafka"/>.</summary>
    public static TopicFollowerSettings For(KafkaOptions kafka, string topic, string clientId, string threadName)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        return new TopicFollowerSettings(topic, clientId, threadName)
        {
            Timeout = kafka.AdminTimeout,
            ReadyTimeout = kafka.TopicReadyTimeout,
            PersistentErrorGrace = kafka.StateTopicErrorGrace,
        };
    }
}

/// <summary>A <see cref="TopicFollower"/> stopped for good, or could not start; the message names the topic and the error.</summary>
public sealed class TopicFollowerException : KafkaException
{
    public TopicFollowerException(string topic, Error error, string message)
        : base(new Error(error?.Code ?? ErrorCode.Unknown, message, error?.IsFatal ?? false))
    {
        Topic = topic;
        KafkaError = error!;
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The client's error that stopped it.</summary>
    public Error KafkaError { get; }
}
