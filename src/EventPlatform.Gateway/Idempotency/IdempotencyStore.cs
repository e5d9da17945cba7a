using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// This instance's view of the idempotency topic: every record of every partition, read in order
/// into an <see cref="IdempotencyLedger"/>. It writes claims and results to the topic and lets a
/// request wait until its own claim has been read back, at which point the ledger says who won.
/// </summary>
/// <remarks>
/// Starting blocks until the topic has been read to its end, so a restarted gateway knows every
/// key before it takes traffic. Thread-safe.
/// </remarks>
public sealed partial class IdempotencyStore(
    IOptions<IdempotencyOptions> options,
    IOptions<KafkaOptions> kafka,
    ITopicProvisioner provisioner,
    TimeProvider time,
    ILogger<IdempotencyStore> logger) : IHostedService, IDisposable
{
    private readonly IdempotencyOptions _options = options.Value;
    private readonly IdempotencyLedger _ledger = new(options.Value.Window, options.Value.ClaimTimeout);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private long[] _positions = [];
    private PriorityQueue<TaskCompletionSource, long>[] _waiters = [];
    private TaskCompletionSource _advanced = NewSignal();
    private IProducer<byte[], byte[]>? _producer;
    private IConsumer<byte[], byte[]>? _consumer;
    private Thread? _reader;
    private int _disposed;

    // Only the reader thread touches this: waiters released by the record just read.
    private readonly List<TaskCompletionSource> _ready = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var k = kafka.Value;
        await provisioner.EnsureTopicAsync(new TopicSpec(_options.Topic, _options.Partitions, k.ReplicationFactor ?? 3, TopicRole.Internal), cancellationToken).ConfigureAwait(false);

        var producerConfig = KafkaClientConfig.ForProducer(k, "eventplatform-idempotency", k.BootstrapServers!);
        // Claims are on the request path, but the embedded broker returns one batch per partition per
        // fetch: one-record batches starved the reader at a few thousand requests/s. 5 ms fills batches.
        producerConfig.LingerMs = 5;
        _producer = new ProducerBuilder<byte[], byte[]>(producerConfig).SetLogHandler((_, _) => { }).Build();

        var consumerConfig = KafkaClientConfig.ForConsumer(k, "eventplatform-idempotency-reader", k.BootstrapServers!, "unused");
        consumerConfig.FetchWaitMaxMs = 5;
        consumerConfig.FetchMinBytes = 1;
        consumerConfig.EnablePartitionEof = false;
        _consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig).SetLogHandler((_, _) => { }).Build();

        // Read what the topic holds now before taking traffic.
        var ends = new long[_options.Partitions];
        _positions = new long[_options.Partitions];
        _waiters = [.. Enumerable.Range(0, _options.Partitions).Select(_ => new PriorityQueue<TaskCompletionSource, long>())];
        var assignment = new List<TopicPartitionOffset>(_options.Partitions);
        for (var p = 0; p < _options.Partitions; p++)
        {
            var marks = _consumer.QueryWatermarkOffsets(new TopicPartition(_options.Topic, p), k.AdminTimeout);
            ends[p] = marks.High.Value;
            _positions[p] = marks.Low.Value;
            assignment.Add(new TopicPartitionOffset(_options.Topic, p, marks.Low));
        }

        _consumer.Assign(assignment);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "idempotency-reader" };
        _reader.Start();

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(k.AdminTimeout * 6);
        for (var p = 0; p < ends.Length; p++)
        {
            await WaitUntilReadAsync(p, ends[p] - 1, linked.Token).ConfigureAwait(false);
        }

        LogCaughtUp(logger, _options.Topic, ends.Sum(), _ledger.Count);
    }

    /// <summary>The key's result, if it settled within the window.</summary>
    public IdempotentResult? Result(string key)
    {
        lock (_gate)
        {
            return _ledger.Result(key, time.GetUtcNow().ToUnixTimeMilliseconds());
        }
    }

    /// <summary>The claim that holds the key, if any.</summary>
    public string? Winner(string key)
    {
        lock (_gate)
        {
            return _ledger.Winner(key);
        }
    }

    /// <summary>Appends a record for <paramref name="key"/>; returns where it was written.</summary>
    public async Task<TopicPartitionOffset> AppendAsync(string key, IdempotencyRecord record)
    {
        var result = await _producer!.ProduceAsync(_options.Topic, new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(key),
            Value = JsonSerializer.SerializeToUtf8Bytes(record, IdempotencyJsonContext.Default.IdempotencyRecord),
        }).ConfigureAwait(false);
        return result.TopicPartitionOffset;
    }

    /// <summary>Waits until this instance has read the record at <paramref name="offset"/> of <paramref name="partition"/>.</summary>
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
            waiter = NewSignal();
            _waiters[partition].Enqueue(waiter, offset);
        }

        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when anything new has been read (for requests waiting on another's claim).</summary>
    public Task NextChangeAsync()
    {
        lock (_gate)
        {
            return _advanced.Task;
        }
    }

    private void ReadLoop()
    {
        var lastPrune = time.GetUtcNow();
        while (!_stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], byte[]>? record;
            try
            {
                record = _consumer!.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException ex)
            {
                LogReadError(logger, ex.Error.Code, ex.Error.Reason);
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

            IdempotencyRecord? value = null;
            try
            {
                value = JsonSerializer.Deserialize(record.Message.Value, IdempotencyJsonContext.Default.IdempotencyRecord);
            }
            catch (JsonException)
            {
                // Not ours: skip it rather than stop deduplicating.
            }

            TaskCompletionSource signal;
            var partition = record.Partition.Value;
            lock (_gate)
            {
                if (value is not null && record.Message.Key is { } key)
                {
                    _ledger.Apply(Encoding.UTF8.GetString(key), value);
                }

                _positions[partition] = record.Offset.Value + 1;
                var waiters = _waiters[partition];
                while (waiters.TryPeek(out var waiter, out var offset) && offset <= record.Offset.Value)
                {
                    waiters.Dequeue();
                    _ready.Add(waiter);
                }

                signal = _advanced;
                _advanced = NewSignal();

                var now = time.GetUtcNow();
                if (now - lastPrune > TimeSpan.FromMinutes(1))
                {
                    _ledger.Prune(now.ToUnixTimeMilliseconds());
                    lastPrune = now;
                }
            }

            foreach (var waiter in _ready)
            {
                waiter.TrySetResult();
            }

            _ready.Clear();
            signal.TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return Task.CompletedTask;
        }

        _stop.Cancel();
        _reader?.Join(TimeSpan.FromSeconds(5));
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

        _stop.Cancel();
        _reader?.Join(TimeSpan.FromSeconds(5));
        _consumer?.Dispose();
        _producer?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Idempotency topic {Topic} read: {Records} records, {Keys} keys remembered")]
    private static partial void LogCaughtUp(ILogger logger, string topic, long records, int keys);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "Reading the idempotency topic failed: {Code} {Reason}")]
    private static partial void LogReadError(ILogger logger, ErrorCode code, string reason);
}
