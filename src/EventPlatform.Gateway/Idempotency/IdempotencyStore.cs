using System.Diagnostics.Metrics;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway.Metrics;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Producing;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// This instance's view of the idempotency log: the records of every partition, read in order
/// into an <see cref="IdempotencyLedger"/>. It appends entries (many per Kafka record) and lets a
/// request wait until the record holding its entry has been read back.
/// </summary>
/// <remarks>
/// <para>
/// Group commit: a key always goes to the same partition (<see cref="PartitionOf"/>, a hash of the
/// scoped key, the same on every instance). Each partition has one record in flight at a time;
/// entries queued meanwhile go together in the next record. Under load one Kafka record (one
/// produce, one decode) carries the entries of many requests.
/// </para>
/// <para>
/// Reading on demand: an instance applies its own records at their acknowledgement (see
/// <see cref="TryApplyOwn"/>) and fetches a partition back only when it must see what others wrote
/// there: a gap between what it has applied and its own record's offset, or a request waiting on
/// another instance's claim. A single instance fetches nothing after its start: on the embedded
/// broker, which walks a partition's log from its start for every fetch, that fetching cost more
/// CPU than the writes.
/// </para>
/// <para>
/// Starting reads each partition from the records of the last window plus its margin (by
/// timestamp), to the end, with no overall deadline (see <see cref="TopicFollower.StartAsync"/>).
/// When the topic can no longer be read, the gateway stops (through <see cref="ServiceFailure"/>)
/// rather than publish without deduplication. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class IdempotencyStore : IHostedService, IDisposable
{
    private static readonly TimeSpan MarkInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long a request waiting on another claim keeps its key's partition fetched (it asks again while it waits).</summary>
    private static readonly TimeSpan WaitingReadsFor = TimeSpan.FromMilliseconds(500);

    /// <summary>0.25 ms to 4 s, doubling: a produce and a fetch on loopback up to a broker's retries.</summary>
    private static readonly double[] AppendDurationBuckets = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096];
    private readonly IdempotencyOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly ITopicProvisioner _provisioner;
    private readonly TimeProvider _time;
    private readonly ServiceFailure _failure;
    private readonly ILogger<IdempotencyStore> _logger;
    private readonly IdempotencyLedger _ledger;
    private readonly Lock _gate = new();
    private readonly List<IdempotencyEntry> _decoded = [];
    private readonly Meter? _meter;
    private readonly Counter<long>? _forgotten;
    private readonly Histogram<double>? _appendDuration;
    private readonly Counter<long>? _appliedAtAck;
    private readonly Counter<long>? _fetched;

    // Per partition, the offset below which every record has been applied to the ledger (by the
    // reader, or by this instance from its own records at their acknowledgement); -1 until known.
    private long[] _appliedTo = [];
    private long _forgottenReported;
    private TaskCompletionSource _advanced = NewSignal();
    private IProducer<byte[]?, byte[]>? _producer;
    private TopicFollower? _follower;
    private PartitionWriter[] _writers = [];
    private EventTopicMarks? _marks;
    private DateTimeOffset _lastPrune;
    private int _disposed;

    public IdempotencyStore(
        IOptions<IdempotencyOptions> options,
        IOptions<KafkaOptions> kafka,
        ITopicProvisioner provisioner,
        TimeProvider time,
        ServiceFailure failure,
        ILogger<IdempotencyStore> logger,
        IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kafka);
        _options = options.Value;
        _kafka = kafka.Value;
        _provisioner = provisioner;
        _time = time;
        _failure = failure;
        _logger = logger;
        _ledger = new IdempotencyLedger(_options.Window, _options.MaxKeys);
        if (meters is not null && _options.Enabled)
        {
            // The factory owns the meter (it is GatewayMetrics' too): never disposed here.
            _meter = meters.Create(GatewayMetrics.MeterName);
            _meter.CreateObservableGauge("idempotency_keys", () => (long)Locked(l => l.Count), "{key}",
                "Idempotency keys this gateway holds in memory (bounded by Gateway:Idempotency:MaxKeys).");
            _meter.CreateObservableGauge("idempotency_oldest_key_age_seconds", OldestKeyAge, "s",
                "Age of the oldest settled key still remembered: the deduplication window in effect (shorter than the configured window once MaxKeys is reached).");
            _forgotten = _meter.CreateCounter<long>("idempotency_keys_forgotten_total", "{key}",
                "Settled keys forgotten before their window ended because MaxKeys was reached; a retry of one publishes again.");
            _forgotten.Add(0);
            _appliedAtAck = _meter.CreateCounter<long>("idempotency_records_applied_at_ack_total", "{record}",
                "Records of this gateway's own applied when the broker acknowledged them, because every record before them had been applied already: their requests did not wait for the reader.");
            _appliedAtAck.Add(0);
            _fetched = _meter.CreateCounter<long>("idempotency_records_fetched_total", "{record}",
                "Records of the idempotency log this gateway fetched back and applied: the start-up's catch-up, other instances' records, and its own written after them. A single instance fetches nothing after its start.");
            _fetched.Add(0);
            _appendDuration = _meter.CreateHistogram("idempotency_append_duration_seconds", "s",
                "Time from appending an entry a request waits on (a claim, or a settlement it made) to this gateway reading it back: what idempotency adds to a publish.",
                tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AppendDurationBuckets });
        }
    }

    /// <summary>Records sent and not yet acknowledged, over every partition (a snapshot, for tests that must know the log is quiet).</summary>
    internal int RecordsInFlight
    {
        get
        {
            var total = 0;
            foreach (var writer in _writers)
            {
                lock (writer)
                {
                    total += writer.InFlight;
                }
            }

            return total;
        }
    }

    /// <summary>Entries waiting for or in their partition's next record.</summary>
    private sealed class PartitionWriter
    {
        public List<(IdempotencyEntry Entry, TaskCompletionSource? Read)> Queue = [];
        public int InFlight;
    }

    /// <summary>
    /// Why the store cannot deduplicate now, or null: not caught up with its topic yet, or the
    /// topic can no longer be read (the service is then stopping). Null when idempotency is off.
    /// </summary>
    public string? ReadinessProblem =>
        !_options.Enabled ? null
        : _marks is null ? $"the idempotency topic {_options.Topic} has not been read to its end yet"
        : _follower?.Failure is { } failure ? $"the idempotency topic {_options.Topic} cannot be read: {failure.Message}"
        : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var k = _kafka;
        await _provisioner.EnsureTopicAsync(TopicFor(_options, k), cancellationToken).ConfigureAwait(false);

        var producerConfig = KafkaClientConfig.ForProducer(k, "eventplatform-idempotency", k.BootstrapServers!);
        producerConfig.LingerMs = _options.Linger.TotalMilliseconds;
        // Entries of one key must stay in order with several records in flight, whatever Kafka:Producer says.
        producerConfig.EnableIdempotence = true;
        producerConfig.Acks = Acks.All;
        // Entries are mostly random 128-bit hashes: compression costs CPU and saves nothing.
        producerConfig.CompressionType = CompressionType.None;
        // Replaced after a fatal error: an idempotent producer then refuses every claim until closed.
        _producer = RecoveringProducer.Create<byte[]?, byte[]>(producerConfig, k, _logger, onError: e => LogProducerError(_logger, e.Code, e.IsFatal, e.Reason));
        using (var admin = new DependentAdminClientBuilder(_producer.Handle).Build())
        {
            await IdempotencyRetention.EnsureAsync(admin, _options.Topic, _options.Window + _options.RetentionMargin, k.AdminTimeout, _logger).ConfigureAwait(false);
        }

        _lastPrune = _time.GetUtcNow();
        var settings = TopicFollowerSettings.For(k, _options.Topic, "eventplatform-idempotency-reader", "idempotency-reader") with
        {
            FetchWaitMaxMs = (int)_options.ReadWait.TotalMilliseconds,
            // Older records cannot answer a retry any more; the margin covers clocks that differ.
            StartFrom = _time.GetUtcNow() - _options.Window - _options.RetentionMargin,
            StallTimeout = _options.CatchUpStallTimeout,
            // Its own records are applied at their acknowledgement: fetch only what others wrote (see TryApplyOwn).
            ReadOnDemand = true,
        };
        _follower = new TopicFollower(k, settings, _gate, Apply, _failure.StateTopicFailed, _logger, _time);

        var started = _time.GetTimestamp();
        var ends = await _follower.StartAsync(cancellationToken).ConfigureAwait(false);
        _writers = [.. Enumerable.Range(0, _follower.Partitions).Select(_ => new PartitionWriter())];
        lock (_gate)
        {
            // Caught up: everything below each end has been read (the reader may be further already).
            var applied = new long[_follower.Partitions];
            for (var p = 0; p < applied.Length; p++)
            {
                applied[p] = Math.Max(p < _appliedTo.Length ? _appliedTo[p] : -1, p < ends.Length ? ends[p] : -1);
            }

            _appliedTo = applied;
        }
        _marks = new EventTopicMarks(k, _time, MarkInterval, _options.ClockSkew + _options.ClaimTimeout + TimeSpan.FromMinutes(5), () => Locked(l => l.Topics.ToArray()), _logger);

        LogCaughtUp(_logger, _options.Topic, _follower.Partitions, ends.Sum(), Locked(l => l.Count), _time.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>
    /// The topic as it is created where the cluster allows: deleted by age once no record in it can
    /// matter any more (the window plus a margin for clock differences between producers and brokers).
    /// Not compacted: compaction keeps only a key's last record, which may be a losing claim.
    /// </summary>
    public static TopicSpec TopicFor(IdempotencyOptions options, KafkaOptions kafka)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kafka);
        return new TopicSpec(options.Topic, options.Partitions, kafka.ReplicationFactor ?? 3, TopicRole.Internal)
        {
            Configs = TopicConfigs.RetainedFor(options.Window + options.RetentionMargin),
        };
    }

    /// <summary>The key's state now.</summary>
    public KeyView Lookup(UInt128 key)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            return _ledger.Lookup(key, now);
        }
    }

    /// <summary>The partition of the idempotency topic that holds <paramref name="key"/>'s entries (the same on every instance).</summary>
    public int PartitionOf(UInt128 key) => (int)((ulong)(key >> 64) % (ulong)_writers.Length);

    /// <summary>
    /// Appends <paramref name="entry"/> to its key's partition, in the next record that partition
    /// sends, and completes once this instance has read that record back. Entries of one key are
    /// written in the order they are appended.
    /// </summary>
    /// <exception cref="KafkaException">The record was not written (<see cref="TopicFollowerException"/>: the topic can no longer be read).</exception>
    public Task AppendAndReadAsync(IdempotencyEntry entry)
    {
        // One task from the append to the read-back: the delivery handler hands it to the follower.
        // Completed without a thread-pool hop: the request's next step (handing its event to the
        // producer) is short and runs on the thread that learnt the result, which saved ~4 ms of
        // queueing behind other requests' work per publish on two busy cores.
        var read = new TaskCompletionSource();
        Enqueue(entry, read);
        return read.Task;
    }

    /// <summary>An entry appended with <see cref="AppendAndReadAsync"/> was read back <paramref name="elapsed"/> after its append.</summary>
    public void AppendRead(TimeSpan elapsed) => _appendDuration?.Record(elapsed.TotalSeconds);

    /// <summary>Appends <paramref name="entry"/> without waiting for it (a failure is logged).</summary>
    public void Post(IdempotencyEntry entry) => Enqueue(entry, null);

    private void Enqueue(IdempotencyEntry entry, TaskCompletionSource? read)
    {
        var partition = PartitionOf(entry.Key);
        var writer = _writers[partition];
        List<(IdempotencyEntry, TaskCompletionSource?)>? batch = null;
        lock (writer)
        {
            writer.Queue.Add((entry, read));
            if (writer.InFlight < _options.RecordsInFlight)
            {
                writer.InFlight++;
                batch = TakeBatch(writer);
            }
        }

        if (batch is not null)
        {
            Send(partition, batch);
        }
    }

    private static List<(IdempotencyEntry, TaskCompletionSource?)> TakeBatch(PartitionWriter writer)
    {
        var queue = writer.Queue;
        if (queue.Count <= IdempotencyCodec.MaxEntriesPerRecord)
        {
            writer.Queue = [];
            return queue;
        }

        var batch = queue.GetRange(0, IdempotencyCodec.MaxEntriesPerRecord);
        queue.RemoveRange(0, IdempotencyCodec.MaxEntriesPerRecord);
        return batch;
    }

    private void Send(int partition, List<(IdempotencyEntry Entry, TaskCompletionSource? Read)> batch)
    {
        var entries = new IdempotencyEntry[batch.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = batch[i].Entry;
        }

        try
        {
            _producer!.Produce(new TopicPartition(_options.Topic, partition), new Message<byte[]?, byte[]> { Value = IdempotencyCodec.Encode(entries) },
                report => Written(partition, batch, report.Error.IsError ? new KafkaException(report.Error) : null, report.Offset.Value));
        }
        catch (Exception e) when (e is KafkaException or ObjectDisposedException)
        {
            Written(partition, batch, e as KafkaException ?? new KafkaException(new Error(ErrorCode.Local_Destroy, "The gateway is stopping.")), -1);
        }
    }

    /// <summary>A record was written (or not): tell its entries' callers, then send what queued meanwhile.</summary>
    private void Written(int partition, List<(IdempotencyEntry Entry, TaskCompletionSource? Read)> batch, KafkaException? error, long offset)
    {
        var applied = error is null && TryApplyOwn(partition, offset, batch);
        SendNext(partition);
        foreach (var (entry, read) in batch)
        {
            if (error is null)
            {
                if (read is null)
                {
                    continue;
                }

                if (applied)
                {
                    read.TrySetResult();
                }
                else
                {
                    _follower!.CompleteWhenRead(partition, offset, read);
                }
            }
            else if (read is null)
            {
                LogPostFailed(_logger, entry.Type, error.Error.Code);
            }
            else
            {
                read.TrySetException(error);
            }
        }
    }

    /// <summary>A record of <paramref name="partition"/> is no longer in flight: send what queued meanwhile (before its waiters continue, on this thread).</summary>
    private void SendNext(int partition)
    {
        var writer = _writers[partition];
        List<(IdempotencyEntry, TaskCompletionSource?)>? next = null;
        lock (writer)
        {
            if (writer.Queue.Count > 0)
            {
                next = TakeBatch(writer);
            }
            else
            {
                writer.InFlight--;
            }
        }

        if (next is not null)
        {
            Send(partition, next);
        }
    }

    /// <summary>
    /// Completes when anything new has been applied (for requests waiting on another's claim of
    /// <paramref name="key"/>); the key's partition is fetched meanwhile, so that another instance's result is seen.
    /// </summary>
    public Task NextChangeAsync(UInt128 key)
    {
        Task next;
        lock (_gate)
        {
            next = _advanced.Task;
        }

        _follower?.Want(PartitionOf(key), WaitingReadsFor);
        return next;
    }

    /// <summary>
    /// Looks for the event record written under <paramref name="claimId"/> in <paramref name="topic"/>:
    /// every partition from where it stood before the claim (less the clock skew) to its end now.
    /// Only asked about claims older than the longest publish, so the answer cannot change later.
    /// </summary>
    public Task<(bool Found, int Partition, long Offset)> FindClaimedEventAsync(string topic, UInt128 claimId, long claimedAtMs, CancellationToken cancellationToken) =>
        _marks!.FindAsync(topic, claimId, claimedAtMs - (long)_options.ClockSkew.TotalMilliseconds, cancellationToken);

    /// <summary>One record of the topic, on the follower's thread.</summary>
    private void Apply(ConsumeResult<byte[]?, byte[]?> record)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            var partition = record.Partition.Value;
            var offset = record.Offset.Value;
            if (partition >= _appliedTo.Length)
            {
                // Read during start-up, before the partition count is known here.
                var grown = new long[partition + 1];
                Array.Fill(grown, -1L);
                _appliedTo.CopyTo(grown, 0);
                _appliedTo = grown;
            }

            if (offset < _appliedTo[partition])
            {
                return; // applied already, at its acknowledgement
            }

            _appliedTo[partition] = offset + 1;
            _fetched?.Add(1);

            _decoded.Clear();
            // Not ours, or of a newer version: skip it rather than stop deduplicating.
            if (record.Message.Value is { } bytes && IdempotencyCodec.TryDecode(bytes, _decoded))
            {
                foreach (var entry in _decoded)
                {
                    _ledger.Apply(entry);
                }
            }

            signal = AdvancedLocked();
        }

        signal.TrySetResult();
    }

    /// <summary>
    /// Applies this instance's own record at its acknowledgement when every record below
    /// <paramref name="offset"/> has been applied: the ledger then holds exactly what any reader of
    /// the log holds at that point, so its requests need not wait for the reader to fetch it back
    /// (always so on a single instance; with several, when no other instance wrote in between).
    /// </summary>
    private bool TryApplyOwn(int partition, long offset, List<(IdempotencyEntry Entry, TaskCompletionSource? Read)> batch)
    {
        if (_follower!.Failure is not null)
        {
            return false; // the log cannot be read: the reader's failure answers, not a stale view
        }

        TaskCompletionSource signal;
        lock (_gate)
        {
            if (partition >= _appliedTo.Length || _appliedTo[partition] != offset)
            {
                return false;
            }

            _appliedTo[partition] = offset + 1;
            foreach (var (entry, _) in batch)
            {
                _ledger.Apply(entry);
            }

            signal = AdvancedLocked();
        }

        _follower.Advance(partition, offset + 1);
        _appliedAtAck?.Add(1);
        signal.TrySetResult();
        return true;
    }

    /// <summary>The ledger moved on: prune when due, count keys forgotten, and hand back the signal to fire.</summary>
    private TaskCompletionSource AdvancedLocked()
    {
        var signal = _advanced;
        _advanced = NewSignal();

        var now = _time.GetUtcNow();
        if (now - _lastPrune > TimeSpan.FromMinutes(1))
        {
            _ledger.Prune(now.ToUnixTimeMilliseconds());
            _lastPrune = now;
        }

        var forgotten = _ledger.ForgottenEarly;
        if (forgotten != _forgottenReported)
        {
            _forgotten?.Add(forgotten - _forgottenReported);
            _forgottenReported = forgotten;
        }

        return signal;
    }

    private T Locked<T>(Func<IdempotencyLedger, T> read)
    {
        lock (_gate)
        {
            return read(_ledger);
        }
    }

    private IEnumerable<Measurement<double>> OldestKeyAge()
    {
        var oldest = Locked(l => l.OldestSettledAtMs);
        return oldest is { } at ? [new Measurement<double>(Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds() - at) / 1000.0)] : [];
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return Task.CompletedTask;
        }

        _follower?.Stop();
        _producer?.Flush(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    /// <summary>Safe to call more than once (DI tracks this instance under two registrations).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _marks?.Dispose();
        _follower?.Dispose();
        _producer?.Dispose();
    }

    [LoggerMessage(EventId = 2346, Level = LogLevel.Information, Message = "Idempotency topic {Topic} read ({Partitions} partitions, high watermarks sum {Records}): {Keys} keys remembered, in {Seconds:0.0} s")]
    private static partial void LogCaughtUp(ILogger logger, string topic, int partitions, long records, int keys, double seconds);

    [LoggerMessage(EventId = 2347, Level = LogLevel.Warning, Message = "The idempotency log's producer reported {Code} (fatal {Fatal}): {Reason}")]
    private static partial void LogProducerError(ILogger logger, ErrorCode code, bool fatal, string reason);

    [LoggerMessage(EventId = 2340, Level = LogLevel.Error, Message = "An idempotency {Type} entry could not be written ({Code}); the claim will be resolved from the event topic by a later retry")]
    private static partial void LogPostFailed(ILogger logger, IdempotencyEntryType type, ErrorCode code);
}
