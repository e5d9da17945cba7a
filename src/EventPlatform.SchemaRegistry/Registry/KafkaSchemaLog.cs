using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The registry's state kept in a one-partition Kafka topic, as Confluent's registry keeps it in
/// <c>_schemas</c>: every instance reads the whole topic in order into a <see cref="RegistryState"/>,
/// so instances agree and a restart loses nothing the broker keeps. Writes are appended, then
/// waited for until read back, so a caller sees its own write applied (or beaten) before it answers.
/// </summary>
public sealed partial class KafkaSchemaLog(
    IOptions<RegistryOptions> options,
    IOptions<KafkaOptions> kafka,
    ITopicProvisioner provisioner,
    ILogger<KafkaSchemaLog> logger) : IHostedService, IDisposable
{
    private readonly RegistryOptions _options = options.Value;
    private readonly RegistryState _state = new(options.Value.DefaultCompatibility.ToUpperInvariant());
    private readonly Lock _gate = new();
    private IProducer<byte[], byte[]?>? _producer;
    private TopicFollower? _follower;
    private int _disposed;

    /// <summary>Whether the log has been read to its end once (the registry is ready).</summary>
    public bool IsReady { get; private set; }

    /// <summary>Runs <paramref name="read"/> on the state under the state's lock.</summary>
    public T Read<T>(Func<RegistryState, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_gate)
        {
            return read(_state);
        }
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var k = kafka.Value;
        await provisioner.EnsureTopicAsync(new TopicSpec(_options.Topic, 1, k.ReplicationFactor ?? 3, TopicRole.Internal), cancellationToken).ConfigureAwait(false);

        var producerConfig = KafkaClientConfig.ForProducer(k, "eventplatform-schema-registry", k.BootstrapServers!);
        producerConfig.LingerMs = 0; // registry writes are rare and a caller waits for each
        _producer = new ProducerBuilder<byte[], byte[]?>(producerConfig).SetLogHandler((_, _) => { }).Build();

        var consumer = TopicFollower.CreateConsumer(k, "eventplatform-schema-registry-reader", fetchWaitMaxMs: 10);
        _follower = new TopicFollower(consumer, _options.Topic, partitions: 1, _gate,
            record =>
            {
                if (record.Message.Key is { } key)
                {
                    lock (_gate)
                    {
                        _state.Apply(key, record.Message.Value, record.Message.Value is null);
                    }
                }
            },
            error => LogReadError(logger, error.Code, error.Reason));
        var ends = await _follower.StartAsync(k.AdminTimeout, "schema-registry-reader", cancellationToken).ConfigureAwait(false);
        IsReady = true;
        LogCaughtUp(logger, _options.Topic, ends[0], Read(s => s.SubjectNames.Count()), Read(s => s.MaxId));
    }

    /// <summary>Reads the log up to its current end: afterwards the state includes every write acknowledged before the call.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        long[] ends;
        try
        {
            ends = await Task.Run(() => _follower!.HighWatermarks(kafka.Value.AdminTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            throw RegistryErrors.StoreError($"The Kafka store cannot be read ({e.Error.Code}): {e.Error.Reason}");
        }

        await _follower!.WaitUntilReadAsync(ends, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends a record and waits until this instance has read it back.</summary>
    /// <param name="key">The record key (a serialized <see cref="LogKey"/>).</param>
    /// <param name="value">The value; null writes a tombstone.</param>
    public async Task AppendAsync(byte[] key, byte[]? value, CancellationToken cancellationToken)
    {
        DeliveryResult<byte[], byte[]?> written;
        try
        {
            written = await _producer!.ProduceAsync(_options.Topic, new Message<byte[], byte[]?> { Key = key, Value = value }, cancellationToken).ConfigureAwait(false);
        }
        catch (ProduceException<byte[], byte[]?> e) when (e.Error.Code is ErrorCode.MsgSizeTooLarge)
        {
            // The client's schema (with its metadata) is too large for the topic: the client's fault, not the store's.
            throw RegistryErrors.TooLarge($"The schema record is larger than the Kafka store takes ({value?.Length ?? 0} bytes): {e.Error.Reason}");
        }
        catch (ProduceException<byte[], byte[]?> e)
        {
            throw RegistryErrors.StoreError($"Writing to the Kafka store failed: {e.Error.Reason}");
        }

        await _follower!.WaitUntilReadAsync(0, written.Offset.Value, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _follower?.Stop();
        _producer?.Flush(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    /// <summary>Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _follower?.Dispose();
        _producer?.Dispose();
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Schema registry store {Topic} read: {Records} records, {Subjects} subjects, highest id {MaxId}")]
    private static partial void LogCaughtUp(ILogger logger, string topic, long records, int subjects, int maxId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Reading the schema registry store failed: {Code} {Reason}")]
    private static partial void LogReadError(ILogger logger, ErrorCode code, string reason);
}
