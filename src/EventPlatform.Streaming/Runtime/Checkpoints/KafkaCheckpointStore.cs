using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Runtime.Checkpoints;

/// <summary>
/// Checkpoints as records of a compacted Kafka topic, for a job whose instances run on several
/// machines: any instance that reaches the cluster loads what any other saved.
/// </summary>
/// <remarks>
/// <para><b>Records.</b> Key <c>{job}/job</c> (the unpartitioned checkpoint) or
/// <c>{job}/partition/{name}</c> (<see cref="Partition"/>); value: the bytes of
/// <see cref="Checkpoint.Serialize"/>, the format <see cref="FileCheckpointStore"/> writes, CRC
/// included. One checkpoint is one record, so a save is atomic: Kafka never shows half a record.
/// A checkpoint larger than <see cref="KafkaCheckpointStoreOptions.MaxCheckpointBytes"/> is refused
/// with <see cref="CheckpointTooLargeException"/> (not split in chunks).</para>
/// <para><b>Guarantees.</b> Durable when <see cref="Save"/> returns: the idempotent producer sends
/// with acks=all and Save waits for the broker's acknowledgement, so the checkpoint survives the
/// writer's crash (and, with the topic's replication and <c>min.insync.replicas</c>, a broker's
/// loss). A Save that throws may or may not have been stored; the next load shows which.
/// <see cref="Load"/> reads the topic to its high watermark (from the beginning the first time,
/// then on from where it stopped) and returns the newest intact value of its key; compaction keeps
/// at least the newest record per key. A newest value that fails its CRC is passed over for the
/// one before if this store object read it and it is intact (compaction may already have removed
/// it for a reader that starts later), else Load returns null; <see cref="LastLoadProblem"/> says why.</para>
/// <para><b>Not guaranteed.</b> Writers are not fenced: an instance removed from the consumer group
/// that has not noticed yet can still save a partition's checkpoint after its new owner did, and
/// the later record wins. Nothing ties a record to the group generation; the scale-out design
/// relies on the group handing a partition to one instance at a time and on revocation writing the
/// checkpoint before the partition moves.</para>
/// <para>Thread-safe (one lock); the root store owns one producer and one consumer shared by every
/// <see cref="Partition"/> view. Dispose the root store when the job is done.</para>
/// </remarks>
public sealed class KafkaCheckpointStore : IPartitionedCheckpointStore, IDisposable
{
    private const string SetAsideSegment = "/set-aside/";
    private const string ReasonHeader = "reason";

    private readonly Connection _connection;
    private readonly string _key;
    private readonly bool _ownsConnection;

    /// <summary>Connects (lazily: nothing is sent before the first call) to the options' cluster.</summary>
    public KafkaCheckpointStore(KafkaCheckpointStoreOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.BootstrapServers);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.JobName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxCheckpointBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero);
        _connection = new Connection(options, clock ?? TimeProvider.System);
        _key = options.JobName + "/job";
        _ownsConnection = true;
    }

    private KafkaCheckpointStore(Connection connection, string key)
    {
        _connection = connection;
        _key = key;
    }

    /// <summary>The compacted topic holding the checkpoints.</summary>
    public string Topic => _connection.Topic;

    /// <summary>This store's record key.</summary>
    public string Key => _key;

    /// <summary>Why the newest record of the key was passed over on the last load, if it was.</summary>
    public string? LastLoadProblem { get; private set; }

    /// <summary>The store of one partition's checkpoint: the key <c>{job}/partition/{name}</c>, sharing this store's clients.</summary>
    public ICheckpointStore Partition(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new KafkaCheckpointStore(_connection, _connection.JobName + "/partition/" + name);
    }

    /// <inheritdoc />
    /// <exception cref="KafkaException">The topic could not be read to its end within the options' timeout (nothing is guessed).</exception>
    public Checkpoint? Load()
    {
        var (checkpoint, problem) = _connection.Load(_key);
        LastLoadProblem = problem;
        return checkpoint;
    }

    /// <inheritdoc />
    /// <exception cref="CheckpointTooLargeException">The serialized checkpoint exceeds <see cref="KafkaCheckpointStoreOptions.MaxCheckpointBytes"/>.</exception>
    /// <exception cref="KafkaException">The broker did not acknowledge it in time: it may or may not be stored.</exception>
    public void Save(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        _connection.Save(_key, checkpoint.Serialize());
    }

    /// <summary>
    /// Copies the key's newest record to <c>{job}/set-aside/{time}/{key}</c> (with the reason in a
    /// header; compaction keeps it), then writes a tombstone for the key, so loads find nothing.
    /// </summary>
    public void SetAside(string reason) => _connection.SetAside(_key, reason);

    /// <summary>Closes the clients (root store only; a partition view shares its root's).</summary>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>The newest value of a key as read from the topic, and the newest intact one.</summary>
    private sealed record KeyState(byte[] Newest, Checkpoint? NewestIntact, string? NewestProblem);

    /// <summary>The clients and the read cache one store and its partition views share.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly KafkaCheckpointStoreOptions _options;
        private readonly TimeProvider _clock;
        private readonly Lock _lock = new();
        private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);
        private readonly Dictionary<TopicPartition, long> _nextOffsets = [];
        private readonly string _keyPrefix;
        private IProducer<string, byte[]?>? _producer;
        private IConsumer<string, byte[]?>? _consumer;
        private bool _topicEnsured;

        public Connection(KafkaCheckpointStoreOptions options, TimeProvider clock)
        {
            _options = options;
            _clock = clock;
            JobName = options.JobName;
            Topic = options.Topic ?? options.JobName + "-checkpoints";
            _keyPrefix = options.JobName + "/";
        }

        public string JobName { get; }

        public string Topic { get; }

        public (Checkpoint? Checkpoint, string? Problem) Load(string key)
        {
            lock (_lock)
            {
                CatchUp();
                if (!_keys.TryGetValue(key, out var state))
                {
                    return (null, null);
                }
                return state.NewestProblem is null
                    ? (state.NewestIntact, null)
                    : (state.NewestIntact, state.NewestIntact is null
                        ? $"{key}: {state.NewestProblem}; no earlier intact record was read"
                        : $"{key}: {state.NewestProblem}; the record before it was loaded");
            }
        }

        public void Save(string key, byte[] value)
        {
            if (value.Length > _options.MaxCheckpointBytes)
            {
                throw new CheckpointTooLargeException(
                    $"The checkpoint for '{key}' is {value.Length} bytes, over the Kafka checkpoint store's limit of {_options.MaxCheckpointBytes} (MaxCheckpointBytes; the topic's max.message.bytes must allow it too). Use the file store or raise both limits.");
            }
            lock (_lock)
            {
                Produce(new Message<string, byte[]?> { Key = key, Value = value });
            }
        }

        public void SetAside(string key, string reason)
        {
            lock (_lock)
            {
                CatchUp();
                if (!_keys.TryGetValue(key, out var state))
                {
                    return;
                }
                // The copy first: a crash between the two leaves the checkpoint loadable, to be set aside again.
                var stamp = _clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);
                Produce(new Message<string, byte[]?>
                {
                    Key = JobName + SetAsideSegment + stamp + "/" + key[_keyPrefix.Length..],
                    Value = state.Newest,
                    Headers = new Headers { { ReasonHeader, Encoding.UTF8.GetBytes(reason) } },
                });
                Produce(new Message<string, byte[]?> { Key = key, Value = null });
                _keys.Remove(key);
            }
        }

        /// <summary>Sends one record and waits for its acknowledgement (acks=all).</summary>
        private void Produce(Message<string, byte[]?> message)
        {
            EnsureTopic();
            var producer = _producer ??= new ProducerBuilder<string, byte[]?>(new ProducerConfig(ClientSettings())
            {
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 0,
                MessageMaxBytes = Math.Max(1_000_000, _options.MaxCheckpointBytes + 100_000),
                MessageTimeoutMs = (int)_options.Timeout.TotalMilliseconds,
            }).Build();
            DeliveryReport<string, byte[]?>? report = null;
            // Not disposed: after a timeout the report may still arrive and set it.
            var delivered = new ManualResetEventSlim();
            producer.Produce(Topic, message, r =>
            {
                report = r;
                delivered.Set();
            });
            // message.timeout.ms bounds the delivery report; the extra second is slack for the callback.
            if (!delivered.Wait(_options.Timeout + TimeSpan.FromSeconds(1)) || report is null)
            {
                throw new KafkaException(new Error(ErrorCode.Local_TimedOut,
                    $"The checkpoint record '{message.Key}' was not acknowledged within {_options.Timeout}: it may or may not be stored."));
            }
            if (report.Error.IsError)
            {
                throw new KafkaException(report.Error);
            }
        }

        /// <summary>Reads every partition of the topic from where the last read stopped to its high watermark.</summary>
        private void CatchUp()
        {
            EnsureTopic();
            var consumer = _consumer ??= CreateConsumer();
            var deadline = _clock.GetUtcNow() + _options.Timeout;
            var behind = new Dictionary<TopicPartition, long>();
            foreach (var partition in _nextOffsets.Keys)
            {
                var high = consumer.QueryWatermarkOffsets(partition, _options.Timeout).High.Value;
                if (high > _nextOffsets[partition])
                {
                    behind[partition] = high;
                }
            }
            while (behind.Count > 0)
            {
                var remaining = deadline - _clock.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    throw new KafkaException(new Error(ErrorCode.Local_TimedOut,
                        $"Reading the checkpoint topic '{Topic}' to its end took longer than {_options.Timeout}."));
                }
                var result = consumer.Consume(remaining < TimeSpan.FromMilliseconds(200) ? remaining : TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    continue;
                }
                var next = result.Offset.Value + (result.IsPartitionEOF ? 0 : 1);
                _nextOffsets[result.TopicPartition] = Math.Max(_nextOffsets[result.TopicPartition], next);
                if (!result.IsPartitionEOF)
                {
                    Apply(result.Message.Key, result.Message.Value);
                }
                if (behind.TryGetValue(result.TopicPartition, out var high) && _nextOffsets[result.TopicPartition] >= high)
                {
                    behind.Remove(result.TopicPartition);
                }
            }
        }

        /// <summary>Keeps the newest record per key of this job; a corrupt one keeps the intact one before it.</summary>
        private void Apply(string? key, byte[]? value)
        {
            if (key is null || !key.StartsWith(_keyPrefix, StringComparison.Ordinal) || key.Contains(SetAsideSegment, StringComparison.Ordinal))
            {
                return;
            }
            if (value is null)
            {
                _keys.Remove(key);
                return;
            }
            try
            {
                _keys[key] = new KeyState(value, Checkpoint.Deserialize(value), null);
            }
            catch (SnapshotFormatException e)
            {
                _keys[key] = new KeyState(value, _keys.GetValueOrDefault(key)?.NewestIntact, e.Message);
            }
        }

        private IConsumer<string, byte[]?> CreateConsumer()
        {
            var consumer = new ConsumerBuilder<string, byte[]?>(new ConsumerConfig(ClientSettings())
            {
                // Assigned, never subscribed and never committed: the group id only satisfies the client.
                GroupId = JobName + "-checkpoint-reader",
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
                EnablePartitionEof = true,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                FetchMaxBytes = Math.Max(52_428_800, _options.MaxCheckpointBytes + 100_000),
                MaxPartitionFetchBytes = Math.Max(1_048_576, _options.MaxCheckpointBytes + 100_000),
            }).Build();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var metadata = admin.GetMetadata(Topic, _options.Timeout);
            var topic = metadata.Topics.SingleOrDefault(t => t.Topic == Topic);
            if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
            {
                consumer.Dispose();
                throw new KafkaException(topic?.Error ?? new Error(ErrorCode.UnknownTopicOrPart, $"The checkpoint topic '{Topic}' does not exist."));
            }
            var partitions = topic.Partitions.Select(p => new TopicPartition(Topic, p.PartitionId)).ToList();
            foreach (var partition in partitions)
            {
                _nextOffsets[partition] = 0;
            }
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            return consumer;
        }

        private void EnsureTopic()
        {
            if (_topicEnsured)
            {
                return;
            }
            if (_options.Topics is { } provisioner)
            {
                var spec = new TopicSpec(Topic, 1, _options.ReplicationFactor, TopicRole.Internal) { Configs = TopicConfigs.Compacted() };
                using var timeout = new CancellationTokenSource(_options.Timeout);
                // The store's contract is synchronous (called on the consume loop's thread).
                Task.Run(() => provisioner.EnsureTopicAsync(spec, timeout.Token), timeout.Token).GetAwaiter().GetResult();
            }
            _topicEnsured = true;
        }

        private ClientConfig ClientSettings()
        {
            var config = new ClientConfig(new Dictionary<string, string>(_options.Extra, StringComparer.Ordinal))
            {
                BootstrapServers = _options.BootstrapServers,
            };
            // As the platform's other clients: localhost resolves to IPv6 first where the broker listens on IPv4 only.
            config.BrokerAddressFamily ??= BrokerAddressFamily.V4;
            return config;
        }

        public void Dispose()
        {
            _consumer?.Close();
            _consumer?.Dispose();
            _producer?.Dispose();
        }
    }
}

/// <summary>A checkpoint too large for the store to write as one record.</summary>
public sealed class CheckpointTooLargeException(string message) : InvalidOperationException(message);
