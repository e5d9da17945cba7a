using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway.Metrics;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Backpressure;

/// <summary>
/// Refuses publishes to a topic while a downstream consumer group is too far behind on one of its
/// partitions (<see cref="DownstreamGuardOptions"/>). A background loop reads, every
/// <see cref="DownstreamGuardOptions.Interval"/>, each watched partition's low and high watermarks
/// and each group's committed offsets; <see cref="Check"/> only looks at the latest reading, so the
/// publish path pays one dictionary read.
/// </summary>
/// <remarks>
/// Committed offsets, not the consumers' positions, because they are where a consumer resumes after
/// a crash: a record dropped past them is lost even if it had been read. Watched topics are the
/// plan's event topics and every other topic a publish asked about (dynamic types). Thread-safe.
/// </remarks>
public sealed partial class DownstreamGuard : BackgroundService
{
    /// <summary>
    /// What a record costs the broker beyond its value: batch framing, per-record header, key and
    /// idempotency headers. Values are counted uncompressed, so the estimate errs towards refusing.
    /// </summary>
    internal const int RecordOverheadBytes = 96;

    private static readonly TimeSpan MetadataRefresh = TimeSpan.FromSeconds(10);

    private readonly DownstreamGuardOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly TimeProvider _time;
    private readonly ILogger<DownstreamGuard> _logger;
    private readonly ConcurrentDictionary<string, RecordSizes> _topics = new(StringComparer.Ordinal);
    private Reading _reading = new(FrozenDictionary<string, PartitionBacklog>.Empty, FrozenDictionary<string, double>.Empty, long.MinValue);

    public DownstreamGuard(IOptions<DownstreamGuardOptions> options, IOptions<KafkaOptions> kafka, TopicPlan plan,
        IMeterFactory meters, TimeProvider time, ILogger<DownstreamGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(meters);
        _options = options.Value;
        _kafka = kafka.Value;
        _time = time;
        _logger = logger;
        foreach (var topic in plan.Topics.Where(t => t.EventType is not null))
        {
            _topics.TryAdd(topic.Name, new RecordSizes());
        }

        if (_options.Active)
        {
            var meter = meters.Create(GatewayMetrics.MeterName);
            meter.CreateObservableGauge("gateway_downstream_lag_ratio", ObserveRatios, "1",
                "The slowest downstream consumer group's lag over its limit, by topic (its worst partition): at 1 and above, publishes to the topic are refused with 503 DOWNSTREAM_BACKLOG.");
        }
    }

    /// <summary>Whether the guard runs (consumer groups are configured).</summary>
    public bool Active => _options.Active;

    /// <summary>
    /// Why a record of <paramref name="valueBytes"/> for <paramref name="topic"/> must wait, or null
    /// when it may go ahead (its size then counts towards the topic's record size estimate).
    /// </summary>
    public PublishFailure? Check(string topic, int valueBytes)
    {
        if (!_options.Active)
        {
            return null;
        }

        var reading = Volatile.Read(ref _reading);
        if (reading.Blocked.Count == 0 || !reading.Blocked.TryGetValue(topic, out var backlog)
            // A reading the cluster has stopped refreshing is not trusted: the publisher meets an outage itself.
            || _time.GetElapsedTime(reading.AtTicks) > _options.StaleAfter)
        {
            (_topics.TryGetValue(topic, out var sizes) ? sizes : _topics.GetOrAdd(topic, _ => new RecordSizes())).Add(valueBytes + RecordOverheadBytes);
            return null;
        }

        return new PublishFailure(FailureKind.Unavailable, ErrorCodes.DownstreamBacklog,
            $"Consumer group '{backlog.Group}' is {backlog.Lag} records behind on {topic}[{backlog.Partition}], over its limit of {backlog.Limit}. " +
            "New events for this topic are refused until it catches up, so that the broker does not drop events it has not read; nothing was published.",
            new JsonObject
            {
                ["topic"] = topic,
                ["partition"] = backlog.Partition,
                ["consumer_group"] = backlog.Group,
                ["lag"] = backlog.Lag,
                ["limit"] = backlog.Limit,
                ["retry_after_seconds"] = 1,
            })
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Active)
        {
            return;
        }

        var config = KafkaClientConfig.ForAdmin(_kafka, GatewayServiceCollectionExtensions.KafkaClientId + "-guard", _kafka.BootstrapServers!);
        config.AllowAutoCreateTopics = false;
        using var admin = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
        var partitions = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var metadataAt = 0L;
        var failing = false;
        LogStarted(_logger, string.Join(", ", _options.ConsumerGroups), _options.MaxLagShare, _options.RetainedBytesPerPartition);
        using var timer = new PeriodicTimer(_options.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (_topics.Keys.Any(t => !partitions.ContainsKey(t)) || _time.GetElapsedTime(metadataAt) > MetadataRefresh)
                    {
                        partitions = ReadPartitions(admin);
                        metadataAt = _time.GetTimestamp();
                    }

                    await ReadOnceAsync(admin, partitions, stoppingToken).ConfigureAwait(false);
                    if (failing)
                    {
                        failing = false;
                        LogRecovered(_logger);
                    }
                }
                catch (KafkaException ex)
                {
                    if (!failing)
                    {
                        failing = true;
                        LogReadFailed(_logger, ex.Error.Reason);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Dictionary<string, int[]> ReadPartitions(IAdminClient admin)
    {
        var metadata = admin.GetMetadata(_kafka.AdminTimeout);
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var topic in metadata.Topics)
        {
            if (_topics.ContainsKey(topic.Topic) && !topic.Error.IsError)
            {
                result[topic.Topic] = [.. topic.Partitions.Where(p => p.Leader >= 0).Select(p => p.PartitionId)];
            }
        }

        // A watched topic that does not exist (yet) has nothing to guard: known as empty until the next refresh.
        foreach (var topic in _topics.Keys)
        {
            result.TryAdd(topic, []);
        }

        return result;
    }

    private async Task ReadOnceAsync(IAdminClient admin, Dictionary<string, int[]> partitions, CancellationToken cancellationToken)
    {
        var keys = partitions.SelectMany(t => t.Value.Select(p => new TopicPartition(t.Key, p))).ToList();
        if (keys.Count == 0)
        {
            return;
        }

        var low = await ListOffsetsAsync(admin, keys, OffsetSpec.Earliest()).ConfigureAwait(false);
        var high = await ListOffsetsAsync(admin, keys, OffsetSpec.Latest()).ConfigureAwait(false);
        var committed = new List<(string Group, Dictionary<TopicPartition, long> Offsets)>();
        foreach (var group in _options.ConsumerGroups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // One group per request: librdkafka's ListConsumerGroupOffsets takes one at a time.
            var results = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, keys)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = _kafka.AdminTimeout }).ConfigureAwait(false);
            var offsets = new Dictionary<TopicPartition, long>();
            foreach (var tpo in results.SelectMany(r => r.Partitions))
            {
                if (!tpo.Error.IsError && tpo.Offset.Value >= 0)
                {
                    offsets[tpo.TopicPartition] = tpo.Offset.Value;
                }
            }

            committed.Add((group, offsets));
        }

        var blocked = new Dictionary<string, PartitionBacklog>(StringComparer.Ordinal);
        var ratios = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (topic, ids) in partitions)
        {
            var backlogs = new List<PartitionBacklog>();
            var recordBytes = _topics.TryGetValue(topic, out var sizes) ? sizes.Estimate() : 0;
            foreach (var id in ids)
            {
                var key = new TopicPartition(topic, id);
                if (!low.TryGetValue(key, out var l) || !high.TryGetValue(key, out var h))
                {
                    continue;
                }

                var limit = BacklogLimit.Limit(BacklogLimit.Capacity(l, h, _options, recordBytes), _options);
                foreach (var (group, offsets) in committed)
                {
                    backlogs.Add(new PartitionBacklog(id, group, BacklogLimit.Lag(l, h, offsets.TryGetValue(key, out var c) ? c : null), limit));
                }
            }

            if (backlogs.Count > 0)
            {
                ratios[topic] = backlogs.Max(b => b.Limit == long.MaxValue ? 0 : (double)b.Lag / Math.Max(1, b.Limit));
            }

            if (BacklogLimit.WorstExceeded(backlogs) is { } worst)
            {
                blocked[topic] = worst;
            }
        }

        var previous = Volatile.Read(ref _reading).Blocked;
        foreach (var (topic, worst) in blocked)
        {
            if (!previous.ContainsKey(topic))
            {
                LogRefusing(_logger, topic, worst.Group, worst.Partition, worst.Lag, worst.Limit);
            }
        }

        foreach (var topic in previous.Keys.Where(t => !blocked.ContainsKey(t)))
        {
            LogResumed(_logger, topic);
        }

        Volatile.Write(ref _reading, new Reading(blocked.ToFrozenDictionary(StringComparer.Ordinal), ratios.ToFrozenDictionary(StringComparer.Ordinal), _time.GetTimestamp()));
    }

    private async Task<Dictionary<TopicPartition, long>> ListOffsetsAsync(IAdminClient admin, List<TopicPartition> keys, OffsetSpec spec)
    {
        var request = keys.Select(k => new TopicPartitionOffsetSpec { TopicPartition = k, OffsetSpec = spec });
        IEnumerable<ListOffsetsResultInfo> infos;
        try
        {
            infos = (await admin.ListOffsetsAsync(request, new ListOffsetsOptions { RequestTimeout = _kafka.AdminTimeout }).ConfigureAwait(false)).ResultInfos;
        }
        catch (ListOffsetsException ex)
        {
            // Partitions that answered are judged; the others wait for the next round.
            infos = ex.Result.ResultInfos;
        }

        var offsets = new Dictionary<TopicPartition, long>();
        foreach (var tpo in infos.Select(i => i.TopicPartitionOffsetError))
        {
            if (!tpo.Error.IsError && tpo.Offset.Value >= 0)
            {
                offsets[tpo.TopicPartition] = tpo.Offset.Value;
            }
        }

        return offsets;
    }

    private IEnumerable<Measurement<double>> ObserveRatios()
    {
        var reading = Volatile.Read(ref _reading);
        foreach (var (topic, ratio) in reading.Ratios)
        {
            yield return new Measurement<double>(ratio, new KeyValuePair<string, object?>("topic", topic));
        }
    }

    /// <summary>
    /// The sizes of the records this gateway admitted to one topic. The estimate is the larger of the
    /// average since start and the average since the last reading, so records growing are seen at the
    /// next reading and records shrinking are not trusted to stay small.
    /// </summary>
    private sealed class RecordSizes
    {
        private long _bytes;
        private long _count;
        private long _bytesAtReading;
        private long _countAtReading;

        public void Add(int bytes)
        {
            Interlocked.Add(ref _bytes, bytes);
            Interlocked.Increment(ref _count);
        }

        /// <summary>Bytes per record, or 0 before the first record. Called by the reading loop only.</summary>
        public double Estimate()
        {
            var count = Volatile.Read(ref _count);
            var bytes = Volatile.Read(ref _bytes);
            var all = count > 0 ? (double)bytes / count : 0;
            var recent = count > _countAtReading ? (double)(bytes - _bytesAtReading) / (count - _countAtReading) : 0;
            (_bytesAtReading, _countAtReading) = (bytes, count);
            return Math.Max(all, recent);
        }
    }

    private sealed record Reading(FrozenDictionary<string, PartitionBacklog> Blocked, FrozenDictionary<string, double> Ratios, long AtTicks);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "Downstream guard on: publishes wait while consumer groups {Groups} lag by more than {Share:P0} of a partition's capacity (retained bytes per partition: {RetainedBytes})")]
    private static partial void LogStarted(ILogger logger, string groups, double share, long? retainedBytes);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Warning, Message = "Refusing publishes to {Topic}: consumer group {Group} is {Lag} records behind on partition {Partition} (limit {Limit})")]
    private static partial void LogRefusing(ILogger logger, string topic, string group, int partition, long lag, long limit);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Information, Message = "Publishes to {Topic} resumed: its consumer groups caught up")]
    private static partial void LogResumed(ILogger logger, string topic);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Warning, Message = "The downstream guard cannot read offsets ({Reason}); its last reading stands for Gateway:DownstreamGuard:StaleAfter, then publishes are let through")]
    private static partial void LogReadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Information, Message = "The downstream guard reads offsets again")]
    private static partial void LogRecovered(ILogger logger);
}
