using Confluent.Kafka;

namespace EventPlatform.Kafka.Consuming;

/// <summary>
/// Runs one Confluent consumer on a dedicated thread (its poll blocks, so not on the thread
/// pool), handing what it reads to its owner's handlers. Every long-running reader of Kafka in
/// the platform stands on it, so that they all stop, fail and close the same way.
/// </summary>
/// <remarks>
/// <para>
/// The loop owns the consumer: when it ends (stop, cancellation, a fatal error, a handler
/// throwing) it calls <see cref="IConsumer{TKey, TValue}.Close"/> on its own thread, so a group
/// member leaves its group at once and its offsets are committed; <see cref="Dispose"/> then
/// disposes the consumer. Handlers set on the consumer's builder (partitions assigned or revoked,
/// errors, statistics) run inside the poll, so on the loop's thread too.
/// </para>
/// <para>
/// A fatal error (<see cref="KafkaException"/> with <see cref="Error.IsFatal"/>) or an exception
/// from a handler ends the loop, and the exception is passed once to
/// <see cref="ConsumeLoopHandlers{TKey, TValue}.OnFailure"/>, on the loop's thread, before the
/// consumer is closed. Other consume errors are transient: librdkafka carries on by itself.
/// </para>
/// <para>
/// <see cref="Start"/> once. <see cref="Stop"/>, <see cref="StopAsync"/> and <see cref="Dispose"/>
/// are thread-safe and idempotent; <see cref="Stop"/> and <see cref="Dispose"/> called from a
/// handler (on the loop's own thread) ask the loop to end without waiting for it, and leave
/// the consumer to a later <see cref="Dispose"/> from another thread.
/// </para>
/// </remarks>
public sealed class ConsumeLoop<TKey, TValue> : IDisposable
{
    private readonly IConsumer<TKey, TValue> _consumer;
    private readonly ConsumeLoopHandlers<TKey, TValue> _handlers;
    private readonly string _name;
    private readonly TimeSpan _pollTimeout;
    private readonly int _niceness;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lifecycle = new();
    private CancellationToken _cancellation;
    private Thread? _thread;
    private volatile bool _stopRequested;
    private bool _closed;
    private bool _disposed;

    /// <param name="consumer">The consumer, subscribed or assigned (or to be, from <see cref="ConsumeLoopHandlers{TKey, TValue}.BeforePoll"/>); the loop owns it from now on.</param>
    /// <param name="name">The thread's name (shown in dumps and debuggers).</param>
    /// <param name="handlers">What to do with what the consumer reads.</param>
    /// <param name="pollTimeout">How long one poll waits: it bounds how late a stop is noticed (default 100 ms).</param>
    /// <param name="niceness">The thread's nice value on Linux (0, the default, leaves its priority alone; see <see cref="ThreadNiceness"/>).</param>
    public ConsumeLoop(IConsumer<TKey, TValue> consumer, string name, ConsumeLoopHandlers<TKey, TValue> handlers, TimeSpan? pollTimeout = null, int niceness = 0)
    {
        ThreadNiceness.ThrowIfOutOfRange(niceness);
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(handlers);
        _consumer = consumer;
        _name = name;
        _handlers = handlers;
        _pollTimeout = pollTimeout ?? TimeSpan.FromMilliseconds(100);
        _niceness = niceness;
    }

    /// <summary>Whether the thread runs at the nice value asked for (false where Linux refused it or it is not Linux); known once started.</summary>
    public bool NicenessApplied { get; private set; }

    /// <summary>The consumer, for calls that librdkafka allows from any thread (watermarks, positions).</summary>
    public IConsumer<TKey, TValue> Consumer => _consumer;

    /// <summary>Completes (never faults) once the loop has ended and the consumer is closed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts the thread; the loop runs until <see cref="Stop"/>, <paramref name="cancellationToken"/> or a failure.</summary>
    /// <exception cref="InvalidOperationException">Started before, or already stopped.</exception>
    public void Start(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_thread is not null || _stopRequested)
            {
                throw new InvalidOperationException($"The consume loop '{_name}' can be started only once.");
            }

            _cancellation = cancellationToken;
            _thread = new Thread(Run) { IsBackground = true, Name = _name };
            _thread.Start();
        }
    }

    /// <summary>Ends the loop and waits until its thread has closed the consumer. Safe to call more than once.</summary>
    public void Stop()
    {
        var thread = RequestStop();
        if (thread is null)
        {
            CloseOnce();
            _completion.TrySetResult();
        }
        else if (thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    /// <summary>Ends the loop without blocking; the task completes once the consumer is closed.</summary>
    public Task StopAsync()
    {
        if (RequestStop() is null)
        {
            CloseOnce();
            _completion.TrySetResult();
        }

        return _completion.Task;
    }

    /// <summary>Stops the loop (see <see cref="Stop"/>), then disposes the consumer. Safe to call more than once.</summary>
    public void Dispose()
    {
        Stop();
        lock (_lifecycle)
        {
            if (_disposed || _thread == Thread.CurrentThread)
            {
                return;
            }

            _disposed = true;
        }

        _consumer.Dispose();
    }

    /// <summary>Marks the loop stopping; returns its thread, or null if it was never started.</summary>
    private Thread? RequestStop()
    {
        lock (_lifecycle)
        {
            _stopRequested = true;
            return _thread;
        }
    }

    private bool Stopping => _stopRequested || _cancellation.IsCancellationRequested;

    private void Run()
    {
        NicenessApplied = ThreadNiceness.LowerCurrentThread(_niceness);
        try
        {
            while (!Stopping)
            {
                _handlers.BeforePoll?.Invoke(_consumer);
                ConsumeResult<TKey, TValue>? result;
                try
                {
                    result = _consumer.Consume(_pollTimeout);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    _handlers.OnConsumeError?.Invoke(e);
                    continue;
                }

                if (result is null)
                {
                    _handlers.OnIdle?.Invoke();
                }
                else if (result.IsPartitionEOF)
                {
                    _handlers.OnPartitionEof?.Invoke(result.TopicPartitionOffset);
                }
                else
                {
                    _handlers.OnRecord(result);
                }
            }
        }
        catch (Exception e)
        {
            _stopRequested = true;
            _handlers.OnFailure(e);
        }
        finally
        {
            CloseOnce();
            _completion.TrySetResult();
        }
    }

    private void CloseOnce()
    {
        lock (_lifecycle)
        {
            if (_closed || _disposed)
            {
                return;
            }

            _closed = true;
        }

        try
        {
            _consumer.Close();
        }
        catch (KafkaException)
        {
            // A coordinator that is away cannot take the final commit; the group times the member out.
        }
    }
}

/// <summary>What a <see cref="ConsumeLoop{TKey, TValue}"/> does with what its consumer reads. Every handler runs on the loop's thread.</summary>
/// <typeparam name="TKey">The records' key type.</typeparam>
/// <typeparam name="TValue">The records' value type.</typeparam>
public sealed class ConsumeLoopHandlers<TKey, TValue>
{
    /// <summary>One record, in the consumer's order (offset order within a partition). Throwing ends the loop.</summary>
    public required Action<ConsumeResult<TKey, TValue>> OnRecord { get; init; }

    /// <summary>Why the loop ended abnormally: a fatal <see cref="KafkaException"/> or a handler's exception. Told once, before the consumer is closed.</summary>
    public required Action<Exception> OnFailure { get; init; }

    /// <summary>Before every poll: the place to change the assignment or do periodic work.</summary>
    public Action<IConsumer<TKey, TValue>>? BeforePoll { get; init; }

    /// <summary>A poll that returned nothing within its timeout.</summary>
    public Action? OnIdle { get; init; }

    /// <summary>The end of a partition was reached (only with <c>enable.partition.eof</c>).</summary>
    public Action<TopicPartitionOffset>? OnPartitionEof { get; init; }

    /// <summary>A consume error that is not fatal; the loop carries on.</summary>
    public Action<ConsumeException>? OnConsumeError { get; init; }
}
