using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// Where the event topics stood, sampled every few seconds, and the scan that looks for the event
/// record a claim wrote (the rare path that resolves a claim left without a result).
/// </summary>
/// <remarks>
/// Event records carry the event's own time as their timestamp, which may be anywhere in the past,
/// so offsets cannot be found by time: a record written after a claim is at or after the end
/// offsets sampled before that claim. Samples are kept for <c>keep</c>; a claim older than every
/// sample (this instance started after it) is looked for from the partitions' beginning.
/// Thread-safe.
/// </remarks>
internal sealed partial class EventTopicMarks : IDisposable
{
    private readonly KafkaOptions _kafka;
    private readonly TimeProvider _time;
    private readonly TimeSpan _keep;
    private readonly Func<string[]> _topics;
    private readonly ILogger _logger;
    private readonly IConsumer<byte[]?, byte[]?> _probe;
    private readonly ITimer _timer;
    private readonly Dictionary<string, Queue<(long AtMs, long[] Ends)>> _samples = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public EventTopicMarks(KafkaOptions kafka, TimeProvider time, TimeSpan interval, TimeSpan keep, Func<string[]> topics, ILogger logger)
    {
        _kafka = kafka;
        _time = time;
        _keep = keep;
        _topics = topics;
        _logger = logger;
        _probe = new ConsumerBuilder<byte[]?, byte[]?>(Config("eventplatform-idempotency-marks")).SetLogHandler((_, _) => { }).Build();
        _timer = time.CreateTimer(_ => Sample(), null, TimeSpan.Zero, interval);
    }

    private ConsumerConfig Config(string clientId)
    {
        var config = KafkaClientConfig.ForConsumer(_kafka, clientId, _kafka.BootstrapServers!, "unused");
        config.EnablePartitionEof = true;
        config.AllowAutoCreateTopics = false;
        config.EnableAutoCommit = false;
        return config;
    }

    private void Sample()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var topic in _topics())
        {
            if (topic.Length == 0)
            {
                continue;
            }

            try
            {
                var ends = Ends(_probe, topic);
                lock (_gate)
                {
                    if (!_samples.TryGetValue(topic, out var queue))
                    {
                        _samples[topic] = queue = new();
                    }

                    queue.Enqueue((now, ends));
                    while (queue.TryPeek(out var head) && head.AtMs < now - (long)_keep.TotalMilliseconds)
                    {
                        queue.Dequeue();
                    }
                }
            }
            catch (KafkaException)
            {
                // A missed sample only means a longer scan, from an older one or from the beginning.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private long[] Ends(IConsumer<byte[]?, byte[]?> consumer, string topic)
    {
        var partitions = PartitionCount(consumer, topic);
        return [.. Enumerable.Range(0, partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), _kafka.AdminTimeout).High.Value)];
    }

    private int PartitionCount(IConsumer<byte[]?, byte[]?> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, _kafka.AdminTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
        return metadata is { Error.Code: ErrorCode.NoError } ? metadata.Partitions.Count : throw new KafkaException(metadata?.Error ?? new Error(ErrorCode.UnknownTopicOrPart));
    }

    /// <summary>The latest sample taken at or before <paramref name="beforeMs"/>, if any.</summary>
    private long[]? SampleBefore(string topic, long beforeMs)
    {
        lock (_gate)
        {
            long[]? found = null;
            if (_samples.TryGetValue(topic, out var queue))
            {
                foreach (var (at, ends) in queue)
                {
                    if (at > beforeMs)
                    {
                        break;
                    }

                    found = ends;
                }
            }

            return found;
        }
    }

    /// <summary>Reads <paramref name="topic"/> from before <paramref name="beforeMs"/> to its end now, for a record whose claim header names <paramref name="claimId"/>.</summary>
    /// <exception cref="KafkaException">The topic could not be read.</exception>
    public Task<(bool Found, int Partition, long Offset)> FindAsync(string topic, UInt128 claimId, long beforeMs, CancellationToken cancellationToken) =>
        Task.Run(() => Find(topic, claimId, beforeMs, cancellationToken), cancellationToken);

    private (bool Found, int Partition, long Offset) Find(string topic, UInt128 claimId, long beforeMs, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(Config("eventplatform-idempotency-resolver")).SetLogHandler((_, _) => { }).Build();
        var ends = Ends(consumer, topic);
        var starts = SampleBefore(topic, beforeMs);
        var assignment = new List<TopicPartitionOffset>();
        var open = new HashSet<int>();
        for (var p = 0; p < ends.Length; p++)
        {
            var from = starts is not null && p < starts.Length ? new Offset(starts[p]) : Offset.Beginning;
            if (from.Value >= ends[p] && from != Offset.Beginning)
            {
                continue;
            }

            assignment.Add(new TopicPartitionOffset(topic, p, from));
            open.Add(p);
        }

        LogScanning(_logger, topic, starts is null ? "the beginning" : "a sample before the claim", ends.Sum());
        consumer.Assign(assignment);
        while (open.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is null)
            {
                continue;
            }

            var p = record.Partition.Value;
            if (record.IsPartitionEOF || record.Offset.Value >= ends[p] - 1)
            {
                if (!record.IsPartitionEOF && Matches(record, claimId))
                {
                    return (true, p, record.Offset.Value);
                }

                open.Remove(p);
                continue;
            }

            if (Matches(record, claimId))
            {
                return (true, p, record.Offset.Value);
            }
        }

        return (false, -1, -1);
    }

    private static bool Matches(ConsumeResult<byte[]?, byte[]?> record, UInt128 claimId) =>
        record.Message?.Headers is { } headers && headers.TryGetLastBytes(IdempotentPublisher.ClaimHeader, out var value) && IdempotencyKeys.Names(value, claimId);

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            _probe.Dispose();
        }
    }

    [LoggerMessage(EventId = 2341, Level = LogLevel.Information, Message = "Resolving an idempotency claim left without a result: reading {Topic} from {From} ({Ends} records in all partitions)")]
    private static partial void LogScanning(ILogger logger, string topic, string from, long ends);
}
