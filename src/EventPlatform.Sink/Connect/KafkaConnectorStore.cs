using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Producing;
using EventPlatform.Kafka.Topics;
using EventPlatform.Sink.Configuration;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Sink.Connect;

/// <summary>
/// Connector configs in a compacted one-partition Kafka topic, as Kafka Connect keeps them in
/// distributed mode (<c>config.storage.topic</c>, <c>connect-configs</c> by default): every sink
/// worker that uses the topic reads it whole and follows it, so a connector created, reconfigured,
/// paused or deleted through any worker's REST API is applied by every worker, and its tasks share
/// the connector's consumer group across them.
/// </summary>
/// <remarks>
/// <para><b>Records.</b> Key: the connector's name (UTF-8); value: the JSON the file store writes
/// (<c>name</c>, <c>config</c> with placeholders kept, <c>state</c>); a tombstone deletes. The last
/// record of a name wins, which is what compaction keeps.</para>
/// <para><b>Guarantees.</b> A save is durable when it returns (acks=all, acknowledged) and already
/// applied here (read back); other workers apply it when their follower reads it, within about a
/// fetch. Concurrent writes of one name through two workers are not serialised (Kafka Connect
/// forwards them to its leader): the later record wins everywhere. A record this worker cannot read
/// (not JSON, a name that differs from its key, hostile bytes) is skipped with a log line. When the
/// topic cannot be followed for good, the sink stops (exit code 69), like the registry.</para>
/// <para>Thread-safe.</para>
/// </remarks>
public sealed partial class KafkaConnectorStore : IConnectorStore
{
    /// <summary>Kafka Connect's default name for the topic.</summary>
    public const string DefaultTopic = "connect-configs";

    private const int MaxNameBytes = 1024;

    private readonly KafkaOptions _kafka;
    private readonly string _topic;
    private readonly ITopicProvisioner _provisioner;
    private readonly ServiceFailure _failure;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredConnector> _stored = new(StringComparer.Ordinal);
    private IProducer<byte[], byte[]?>? _producer;
    private TopicFollower? _follower;
    private bool _everWritten;
    private bool _open;
    private List<string> _problems = [];

    public KafkaConnectorStore(KafkaOptions kafka, string topic, ITopicProvisioner provisioner, ServiceFailure failure, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        _kafka = kafka;
        _topic = topic;
        _provisioner = provisioner;
        _failure = failure;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Description => "Kafka topic " + _topic;

    /// <inheritdoc />
    public Action<string>? Changed { get; set; }

    /// <summary>The topic as created where the cluster allows: one partition (one order of writes), compacted.</summary>
    public static TopicSpec TopicFor(string topic, KafkaOptions kafka)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        return new TopicSpec(topic, 1, kafka.ReplicationFactor ?? 3, TopicRole.Internal) { Configs = TopicConfigs.Compacted() };
    }

    /// <inheritdoc />
    public async Task<ConnectorStoreContents> OpenAsync(CancellationToken cancellationToken)
    {
        await _provisioner.EnsureTopicAsync(TopicFor(_topic, _kafka), cancellationToken).ConfigureAwait(false);
        var producerConfig = KafkaClientConfig.ForProducer(_kafka, "eventplatform-sink-configs", _kafka.BootstrapServers!);
        producerConfig.LingerMs = 0; // rare writes, each waited for by a REST call
        // Replaced after a fatal error: an idempotent producer then refuses every write until closed.
        _producer = RecoveringProducer.Create<byte[], byte[]?>(producerConfig, _kafka, _logger);
        var settings = TopicFollowerSettings.For(_kafka, _topic, "eventplatform-sink-configs-reader", "sink-configs-reader") with { SinglePartition = true };
        _follower = new TopicFollower(_kafka, settings, _gate, Apply, _failure.StateTopicFailed, _logger);
        await _follower.StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _open = true;
            var contents = new ConnectorStoreContents([.. _stored.Values.OrderBy(c => c.Name, StringComparer.Ordinal)], _problems, _everWritten);
            _problems = [];
            return contents;
        }
    }

    /// <inheritdoc />
    public StoredConnector? Get(string name)
    {
        lock (_gate)
        {
            return _stored.GetValueOrDefault(name);
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(StoredConnector connector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var value = JsonSerializer.SerializeToUtf8Bytes(
            new StoredConnectorFile { Name = connector.Name, Config = new Dictionary<string, string>(connector.Config, StringComparer.Ordinal), State = connector.State },
            ConnectStoreJsonContext.Default.StoredConnectorFile);
        return AppendAsync(connector.Name, value, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken) => AppendAsync(name, null, cancellationToken);

    /// <inheritdoc />
    public Task MarkWrittenAsync(CancellationToken cancellationToken) => Task.CompletedTask; // every write is a record: a topic with records was written

    public ValueTask DisposeAsync()
    {
        _follower?.Dispose();
        _producer?.Flush(TimeSpan.FromSeconds(5));
        _producer?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Appends a record and waits until this worker has read it back (and so applied it).</summary>
    private async Task AppendAsync(string name, byte[]? value, CancellationToken cancellationToken)
    {
        var producer = _producer ?? throw new InvalidOperationException("The store is not open.");
        var written = await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[], byte[]?> { Key = Encoding.UTF8.GetBytes(name), Value = value }, cancellationToken)
            .ConfigureAwait(false);
        await _follower!.WaitUntilReadAsync(0, written.Offset.Value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies one record of the topic (on the follower's thread).</summary>
    private void Apply(ConsumeResult<byte[]?, byte[]?> record)
    {
        string? name = null;
        StoredConnector? entry = null;
        string? problem = null;
        try
        {
            name = ReadName(record.Message.Key);
            if (name is null)
            {
                problem = "a record without a readable connector name as its key";
            }
            else if (record.Message.Value is { } value)
            {
                var stored = JsonSerializer.Deserialize(value, ConnectStoreJsonContext.Default.StoredConnectorFile);
                if (stored is { Name: { } storedName, Config: { } config } && storedName == name && Enum.IsDefined(stored.State))
                {
                    entry = new StoredConnector(name, config, stored.State);
                }
                else
                {
                    problem = $"the record of '{name}' is not a connector config of that name";
                }
            }
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or DecoderFallbackException)
        {
            problem = $"the record of '{name}' is not readable: {e.Message}";
        }

        bool notify;
        lock (_gate)
        {
            _everWritten = true;
            if (problem is not null)
            {
                _problems.Add($"{_topic}@{record.Offset.Value}: {problem}");
                if (_open)
                {
                    LogUnreadable(_logger, _topic, record.Offset.Value, problem);
                }

                return;
            }

            if (entry is null)
            {
                _stored.Remove(name!);
            }
            else
            {
                _stored[name!] = entry;
            }

            notify = _open;
        }

        if (notify)
        {
            Changed?.Invoke(name!);
        }
    }

    private static string? ReadName(byte[]? key)
    {
        if (key is not { Length: > 0 and <= MaxNameBytes })
        {
            return null;
        }

        try
        {
            var name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(key);
            return SinkConnectorConfig.NameProblem(name) is null ? name : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 5150, Level = LogLevel.Warning, Message = "Skipped {Topic}@{Offset}: {Problem}")]
    private static partial void LogUnreadable(ILogger logger, string topic, long offset, string problem);
}
