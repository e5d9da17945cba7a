using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Hosting.Lifetime;
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
/// key before it takes traffic. When the topic can no longer be read, the gateway stops (through
/// <see cref="ServiceFailure"/>) rather than publish without deduplication. Thread-safe.
/// </remarks>
public sealed partial class IdempotencyStore(
    IOptions<IdempotencyOptions> options,
    IOptions<KafkaOptions> kafka,
    ITopicProvisioner provisioner,
    TimeProvider time,
    ServiceFailure failure,
    ILogger<IdempotencyStore> logger) : IHostedService, IDisposable
{
    private readonly IdempotencyOptions _options = options.Value;
    private readonly IdempotencyLedger _ledger = new(options.Value.Window, options.Value.ClaimTimeout);
    private readonly Lock _gate = new();
    private TaskCompletionSource _advanced = NewSignal();
    private IProducer<byte[], byte[]>? _producer;
    private TopicFollower? _follower;
    private DateTimeOffset _lastPrune;
    private int _disposed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var k = kafka.Value;
        await provisioner.EnsureTopicAsync(TopicFor(_options, k), cancellationToken).ConfigureAwait(false);

        var producerConfig = KafkaClientConfig.ForProducer(k, "eventplatform-idempotency", k.BootstrapServers!);
        // Claims are on the request path, but the embedded broker returns one batch per partition per
        // fetch: one-record batches starved the reader at a few thousand requests/s. 5 ms fills batches.
        producerConfig.LingerMs = 5;
        _producer = new ProducerBuilder<byte[], byte[]>(producerConfig).SetLogHandler((_, _) => { }).Build();

        _lastPrune = time.GetUtcNow();
        var settings = TopicFollowerSettings.For(k, _options.Topic, "eventplatform-idempotency-reader", "idempotency-reader") with { FetchWaitMaxMs = 5 };
        _follower = new TopicFollower(k, settings, _gate, Apply, failure.StateTopicFailed, logger, time);

        // Read what the topic holds now before taking traffic. The partition count is the cluster's
        // (a topic auto-created by the broker has its default count); claims go where the producer puts them.
        var ends = await _follower.StartAsync(cancellationToken).ConfigureAwait(false);

        LogCaughtUp(logger, _options.Topic, _follower.Partitions, ends.Sum(), _ledger.Count);
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
    public Task WaitUntilReadAsync(int partition, long offset, CancellationToken cancellationToken) =>
        _follower!.WaitUntilReadAsync(partition, offset, cancellationToken);

    /// <summary>Completes when anything new has been read (for requests waiting on another's claim).</summary>
    public Task NextChangeAsync()
    {
        lock (_gate)
        {
            return _advanced.Task;
        }
    }

    /// <summary>One record of the topic, on the follower's thread.</summary>
    private void Apply(ConsumeResult<byte[]?, byte[]?> record)
    {
        IdempotencyRecord? value = null;
        try
        {
            value = record.Message.Value is { } bytes ? JsonSerializer.Deserialize(bytes, IdempotencyJsonContext.Default.IdempotencyRecord) : null;
        }
        catch (JsonException)
        {
            // Not ours: skip it rather than stop deduplicating.
        }

        TaskCompletionSource signal;
        lock (_gate)
        {
            if (value is not null && record.Message.Key is { } key)
            {
                _ledger.Apply(Encoding.UTF8.GetString(key), value);
            }

            signal = _advanced;
            _advanced = NewSignal();

            var now = time.GetUtcNow();
            if (now - _lastPrune > TimeSpan.FromMinutes(1))
            {
                _ledger.Prune(now.ToUnixTimeMilliseconds());
                _lastPrune = now;
            }
        }

        signal.TrySetResult();
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

        _follower?.Dispose();
        _producer?.Dispose();
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Idempotency topic {Topic} read ({Partitions} partitions): {Records} records, {Keys} keys remembered")]
    private static partial void LogCaughtUp(ILogger logger, string topic, int partitions, long records, int keys);
}
