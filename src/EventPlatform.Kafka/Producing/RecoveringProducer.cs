using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Producing;

/// <summary>Makes the services' <see cref="RecoveringProducer{TKey, TValue}"/>s, so that each is built and retired the same way.</summary>
public static class RecoveringProducer
{
    /// <summary>How long a failed producer is kept beyond the message timeout: its last delivery reports.</summary>
    private static readonly TimeSpan RetireMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A recovering producer with <paramref name="config"/>. <paramref name="configure"/> adds handlers to
    /// each producer's builder (not the error handler); without it librdkafka's log lines are dropped.
    /// </summary>
    public static RecoveringProducer<TKey, TValue> Create<TKey, TValue>(
        ProducerConfig config,
        KafkaOptions options,
        ILogger logger,
        Action<ProducerBuilder<TKey, TValue>>? configure = null,
        Action<Error>? onError = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RecoveringProducer<TKey, TValue>(
            () =>
            {
                var builder = new ProducerBuilder<TKey, TValue>(config);
                if (configure is null)
                {
                    builder.SetLogHandler((_, _) => { });
                }
                else
                {
                    configure(builder);
                }

                return builder;
            },
            logger,
            options.Producer.MessageTimeout + RetireMargin,
            onError);
    }
}

/// <summary>
/// A producer that replaces its librdkafka producer when that one raises a fatal error, so that a
/// service keeps publishing instead of refusing every record until it is restarted.
/// </summary>
/// <remarks>
/// <para>
/// An idempotent producer whose broker answers the head of its in-flight requests with an
/// out-of-order sequence ("sequence desynchronization", seen after a broker hung with several
/// requests in flight) raises a fatal error, and from then on fails every record as not persisted:
/// librdkafka's answer is to close it and make another (RecoveringProducerTests shows both). The
/// fatal error arrives through the error callback; the next record goes to a new producer (a new
/// producer id: the broker deduplicates per id, so records the failed one had in flight are not
/// resent by it, and their senders were told "possibly persisted" or "not persisted" as librdkafka
/// reported).
/// </para>
/// <para>
/// <see cref="Handle"/> stays the first producer's for the wrapper's life: dependent clients (a health
/// probe's admin client, say) are built on it and must not see it disposed. A fatal error stops
/// producing only, so its metadata requests still work. Later failed producers are disposed once
/// <c>retireAfter</c> has passed (every record they held has had its report by then) and at disposal.
/// For non-transactional producers: a fatal transactional producer is fenced, which another
/// instance's epoch decides, and is not this class's to replace. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class RecoveringProducer<TKey, TValue> : IProducer<TKey, TValue>
{
    private readonly Func<ProducerBuilder<TKey, TValue>> _builder;
    private readonly Action<Error>? _onError;
    private readonly TimeSpan _retireAfter;
    private readonly ILogger _logger;
    private readonly IProducer<TKey, TValue> _first;
    private readonly Lock _gate = new();
    private readonly List<IProducer<TKey, TValue>> _retired = [];
    private volatile IProducer<TKey, TValue> _current;
    private long _replacements;
    private bool _disposed;

    /// <summary>Builds the first producer.</summary>
    /// <param name="builder">A builder for each producer, without an error handler (this class sets it).</param>
    /// <param name="logger">Where replacements are logged.</param>
    /// <param name="retireAfter">How long a failed producer is kept before it is disposed: at least the message timeout.</param>
    /// <param name="onError">Told every error the producers raise (fatal ones too), for logging.</param>
    public RecoveringProducer(Func<ProducerBuilder<TKey, TValue>> builder, ILogger logger, TimeSpan retireAfter, Action<Error>? onError = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(logger);
        _builder = builder;
        _logger = logger;
        _retireAfter = retireAfter;
        _onError = onError;
        _first = Build();
        _current = _first;
    }

    /// <summary>How many times a producer was replaced after a fatal error.</summary>
    public long Replacements => Interlocked.Read(ref _replacements);

    /// <summary>Whether <paramref name="producer"/> (as a builder's handler receives it) is the one records go to now.</summary>
    public bool IsCurrent(IClient producer) => ReferenceEquals(producer, _current);

    /// <summary>Told (on the failed producer's polling thread) after each replacement.</summary>
    public event Action<Error>? Replaced;

    public Handle Handle => _first.Handle;

    public string Name => _current.Name;

    public int AddBrokers(string brokers) => _current.AddBrokers(brokers);

    public void SetSaslCredentials(string username, string password) => _current.SetSaslCredentials(username, password);

    public Task<DeliveryResult<TKey, TValue>> ProduceAsync(string topic, Message<TKey, TValue> message, CancellationToken cancellationToken = default) =>
        _current.ProduceAsync(topic, message, cancellationToken);

    public Task<DeliveryResult<TKey, TValue>> ProduceAsync(TopicPartition topicPartition, Message<TKey, TValue> message, CancellationToken cancellationToken = default) =>
        _current.ProduceAsync(topicPartition, message, cancellationToken);

    public void Produce(string topic, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>>? deliveryHandler = null) =>
        _current.Produce(topic, message, deliveryHandler);

    public void Produce(TopicPartition topicPartition, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>>? deliveryHandler = null) =>
        _current.Produce(topicPartition, message, deliveryHandler);

    public int Poll(TimeSpan timeout) => _current.Poll(timeout);

    public int Flush(TimeSpan timeout) => _current.Flush(timeout);

    public void Flush(CancellationToken cancellationToken = default) => _current.Flush(cancellationToken);

    public void InitTransactions(TimeSpan timeout) => _current.InitTransactions(timeout);

    public void BeginTransaction() => _current.BeginTransaction();

    public void CommitTransaction(TimeSpan timeout) => _current.CommitTransaction(timeout);

    public void CommitTransaction() => _current.CommitTransaction();

    public void AbortTransaction(TimeSpan timeout) => _current.AbortTransaction(timeout);

    public void AbortTransaction() => _current.AbortTransaction();

    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) =>
        _current.SendOffsetsToTransaction(offsets, groupMetadata, timeout);

    public void Dispose()
    {
        List<IProducer<TKey, TValue>> all;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            all = [.. _retired, _current]; // the current one is never among the retired
            _retired.Clear();
        }

        foreach (var producer in all)
        {
            if (!ReferenceEquals(producer, _first))
            {
                producer.Dispose();
            }
        }

        // Last: dependent clients built on its handle are disposed before this (their owners were made after it).
        _first.Dispose();
    }

    private IProducer<TKey, TValue> Build() =>
        _builder().SetErrorHandler((producer, error) =>
        {
            _onError?.Invoke(error);
            if (error.IsFatal)
            {
                Replace(producer, error);
            }
        }).Build();

    // On the failed producer's polling thread: it must not dispose that producer (Dispose joins the thread).
    private void Replace(IProducer<TKey, TValue> failed, Error error)
    {
        IProducer<TKey, TValue> replacement;
        lock (_gate)
        {
            if (_disposed || !ReferenceEquals(failed, _current))
            {
                return; // replaced already (a second fatal report of the same producer), or stopping
            }

            replacement = Build();
            _current = replacement;
            _retired.Add(failed);
            Interlocked.Increment(ref _replacements);
        }

        LogReplaced(_logger, failed.Name, error.Code, error.Reason, replacement.Name);
        Replaced?.Invoke(error);
        if (!ReferenceEquals(failed, _first))
        {
            _ = RetireLaterAsync(failed);
        }
    }

    private async Task RetireLaterAsync(IProducer<TKey, TValue> failed)
    {
        await Task.Delay(_retireAfter).ConfigureAwait(false);
        lock (_gate)
        {
            if (_disposed || !_retired.Remove(failed))
            {
                return;
            }
        }

        failed.Dispose();
    }

    [LoggerMessage(EventId = 1230, Level = LogLevel.Error, Message = "Kafka producer {Failed} raised a fatal error ({Code}: {Reason}) and refuses every record from now on; replaced by {Replacement}")]
    private static partial void LogReplaced(ILogger logger, string failed, ErrorCode code, string reason, string replacement);
}
