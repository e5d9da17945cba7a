using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;

namespace EventPlatform.Kafka.Topics;

/// <summary>
/// Reads every partition of a topic from its start, in order, on a thread of its own, handing each
/// record to its owner, and lets callers wait until a given offset has been read and applied. The pattern of a state kept in a Kafka topic (the gateway's idempotency keys, the schema
/// registry's schemas): append, then wait to read your own record back.
/// </summary>
/// <remarks>Thread-safe. Disposing stops the thread and disposes the consumer.</remarks>
public sealed class TopicFollower : IDisposable
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly string _topic;
    private readonly Lock _gate;
    private readonly Action<ConsumeResult<byte[]?, byte[]?>> _apply;
    private readonly Action<Error> _onError;
    private readonly long[] _positions;
    private readonly PriorityQueue<TaskCompletionSource, long>[] _waiters;
    private readonly List<TaskCompletionSource> _ready = [];
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private int _disposed;

    /// <param name="consumer">A consumer for this follower alone (it is assigned, never subscribed).</param>
    /// <param name="topic">The topic.</param>
    /// <param name="partitions">How many partitions it has.</param>
    /// <param name="gate">The owner's lock, which the owner's <paramref name="apply"/> takes to change its state.</param>
    /// <param name="apply">
    /// Applies one record to the owner's state, on the follower's thread, not under
    /// <paramref name="gate"/> (so it can decode first); the offset counts as read only after it returns.
    /// </param>
    /// <param name="onError">Told about consume errors (the follower keeps reading).</param>
    public TopicFollower(
        IConsumer<byte[]?, byte[]?> consumer,
        string topic,
        int partitions,
        Lock gate,
        Action<ConsumeResult<byte[]?, byte[]?>> apply,
        Action<Error> onError)
    {
        _consumer = consumer;
        _topic = topic;
        _gate = gate;
        _apply = apply;
        _onError = onError;
        _positions = new long[partitions];
        _waiters = [.. Enumerable.Range(0, partitions).Select(_ => new PriorityQueue<TaskCompletionSource, long>())];
    }

    /// <summary>
    /// A consumer for a follower: assigned rather than subscribed (the group id is never used),
    /// short fetch waits (callers wait for their own records), no end-of-partition events.
    /// </summary>
    public static IConsumer<byte[]?, byte[]?> CreateConsumer(KafkaOptions options, string clientId, int fetchWaitMaxMs)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = KafkaClientConfig.ForConsumer(options, clientId, options.BootstrapServers!, "unused");
        config.FetchWaitMaxMs = fetchWaitMaxMs;
        config.FetchMinBytes = 1;
        config.EnablePartitionEof = false;
        return new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>
    /// Starts reading every partition from its low watermark and waits until everything the topic
    /// held at the start has been applied (at most six <paramref name="timeout"/>s); returns the
    /// high watermarks found then.
    /// </summary>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    public async Task<long[]> StartAsync(TimeSpan timeout, string threadName, CancellationToken cancellationToken)
    {
        var ends = Start(timeout, threadName);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(timeout * 6);
        await WaitUntilReadAsync(ends, linked.Token).ConfigureAwait(false);
        return ends;
    }

    private long[] Start(TimeSpan timeout, string threadName)
    {
        var ends = new long[_positions.Length];
        var assignment = new List<TopicPartitionOffset>(_positions.Length);
        for (var p = 0; p < _positions.Length; p++)
        {
            var marks = _consumer.QueryWatermarkOffsets(new TopicPartition(_topic, p), timeout);
            ends[p] = marks.High.Value;
            _positions[p] = marks.Low.Value;
            assignment.Add(new TopicPartitionOffset(_topic, p, marks.Low));
        }

        _consumer.Assign(assignment);
        _thread = new Thread(ReadLoop) { IsBackground = true, Name = threadName };
        _thread.Start();
        return ends;
    }

    /// <summary>The partitions' high watermarks now (what has been written so far).</summary>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    public long[] HighWatermarks(TimeSpan timeout) =>
        [.. Enumerable.Range(0, _positions.Length).Select(p => _consumer.QueryWatermarkOffsets(new TopicPartition(_topic, p), timeout).High.Value)];

    /// <summary>Waits until the record at <paramref name="offset"/> of <paramref name="partition"/> has been read and applied.</summary>
    public Task WaitUntilReadAsync(int partition, long offset, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_positions[partition] > offset)
            {
                return Task.CompletedTask;
            }

            // Each waiter is woken only by the record it waits for, not by every record read.
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[partition].Enqueue(waiter, offset);
        }

        return waiter.Task.WaitAsync(cancellationToken);
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

    private void ReadLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            ConsumeResult<byte[]?, byte[]?>? record;
            try
            {
                record = _consumer.Consume(PollTimeout);
            }
            catch (ConsumeException e)
            {
                _onError(e.Error);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (record?.Message is null)
            {
                continue;
            }

            _apply(record);
            var partition = record.Partition.Value;
            lock (_gate)
            {
                _positions[partition] = record.Offset.Value + 1;
                var waiters = _waiters[partition];
                while (waiters.TryPeek(out var waiter, out var offset) && offset <= record.Offset.Value)
                {
                    waiters.Dequeue();
                    _ready.Add(waiter);
                }
            }

            foreach (var waiter in _ready)
            {
                waiter.TrySetResult();
            }

            _ready.Clear();
        }
    }

    /// <summary>Stops reading (waits up to 5 s for the thread).</summary>
    public void Stop()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _stop.Cancel();
            _thread?.Join(TimeSpan.FromSeconds(5));
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
        _thread?.Join(TimeSpan.FromSeconds(5));
        _consumer.Dispose();
        _stop.Dispose();
    }
}
