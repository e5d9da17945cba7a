using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Producing;
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
/// <remarks>
/// The log is partition 0 of the topic: every write goes there explicitly, so a topic that ended up
/// with more partitions (auto-created by a broker without CreateTopics) still holds one order. When the
/// topic can no longer be read, the registry stops (through <see cref="ServiceFailure"/>) rather than
/// answer from a stale copy, where it could hand out an id twice.
/// </remarks>
public sealed partial class KafkaSchemaLog(
    IOptions<RegistryOptions> options,
    IOptions<KafkaOptions> kafka,
    ITopicProvisioner provisioner,
    ServiceFailure failure,
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
        await provisioner.EnsureTopicAsync(TopicFor(_options, k), cancellationToken).ConfigureAwait(false);

        var producerConfig = KafkaClientConfig.ForProducer(k, "eventplatform-schema-registry", k.BootstrapServers!);
        producerConfig.LingerMs = 0; // registry writes are rare and a caller waits for each
        // Replaced after a fatal error: an idempotent producer then refuses every write until closed.
        _producer = RecoveringProducer.Create<byte[], byte[]?>(producerConfig, k, logger);

        // The log is partition 0, whatever the topic has (auto-created topics have the broker's default count).
        var settings = TopicFollowerSettings.For(k, _options.Topic, "eventplatform-schema-registry-reader", "schema-registry-reader") with { SinglePartition = true };
        _follower = new TopicFollower(k, settings, _gate,
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
            failure.StateTopicFailed,
            logger);
        var ends = await _follower.StartAsync(cancellationToken).ConfigureAwait(false);
        IsReady = true;
        LogCaughtUp(logger, _options.Topic, ends[0], Read(s => s.SubjectNames.Count()), Read(s => s.MaxId));
    }

    /// <summary>
    /// The topic as it is created where the cluster allows: one partition (one order of writes for
    /// every instance) and compacted, as Confluent's registry makes <c>_schemas</c> (the record keys
    /// are chosen so that the last record of each key is the state).
    /// </summary>
    public static TopicSpec TopicFor(RegistryOptions options, KafkaOptions kafka)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kafka);
        return new TopicSpec(options.Topic, 1, kafka.ReplicationFactor ?? 3, TopicRole.Internal) { Configs = TopicConfigs.Compacted() };
    }

    /// <summary>Reads the log up to its current end: afterwards the state includes every write acknowledged before the call.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ends = await Task.Run(() => _follower!.HighWatermarks(kafka.Value.AdminTimeout), cancellationToken).ConfigureAwait(false);
            await _follower!.WaitUntilReadAsync(ends, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            throw RegistryErrors.StoreError($"The Kafka store cannot be read ({e.Error.Code}): {e.Error.Reason}");
        }
    }

    /// <summary>
    /// For readiness: whether the store can be read to its current end within <paramref name="timeout"/>
    /// (the end asked of the cluster, then this instance's reading waited for); the reason when not.
    /// </summary>
    public async Task<string?> CheckCaughtUpAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsReady || _follower is not { } follower)
        {
            return "the store has not been read to its end yet";
        }

        if (follower.Failure is { } failure)
        {
            return $"the store cannot be read: {failure.Message}";
        }

        try
        {
            var ends = await Task.Run(() => follower.HighWatermarks(timeout), cancellationToken).ConfigureAwait(false);
            var read = follower.Positions();
            if (ends.Length > 0 && read.Length > 0 && ends[0] < read[0])
            {
                // A log never shrinks: the cluster lost records this instance applied (a broker that
                // came back empty). Its state is no longer the store's; a restart reads the store again.
                return $"the store ends at offset {ends[0]} but this instance has read up to {read[0]}: the cluster lost records; restart the registry";
            }

            await follower.WaitUntilReadAsync(ends, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (KafkaException e)
        {
            return $"the store cannot be read ({e.Error.Code}): {e.Error.Reason}";
        }
    }

    /// <summary>Appends a record and waits until this instance has read it back.</summary>
    /// <param name="key">The record key (a serialized <see cref="LogKey"/>).</param>
    /// <param name="value">The value; null writes a tombstone.</param>
    public async Task AppendAsync(byte[] key, byte[]? value, CancellationToken cancellationToken)
    {
        DeliveryResult<byte[], byte[]?> written;
        try
        {
            written = await _producer!.ProduceAsync(Log, new Message<byte[], byte[]?> { Key = key, Value = value }, cancellationToken).ConfigureAwait(false);
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

        try
        {
            await _follower!.WaitUntilReadAsync(0, written.Offset.Value, cancellationToken).ConfigureAwait(false);
        }
        catch (TopicFollowerException e)
        {
            throw RegistryErrors.StoreError($"The Kafka store cannot be read ({e.Error.Code}): {e.Error.Reason}");
        }
    }

    private TopicPartition Log => new(_options.Topic, 0);

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

    [LoggerMessage(EventId = 3120, Level = LogLevel.Information, Message = "Schema registry store {Topic} read: {Records} records, {Subjects} subjects, highest id {MaxId}")]
    private static partial void LogCaughtUp(ILogger logger, string topic, long records, int subjects, int maxId);
}
