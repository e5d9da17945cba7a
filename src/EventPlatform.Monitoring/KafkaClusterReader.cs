using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Monitoring;

/// <summary>
/// Reads what the exporter needs from a Kafka cluster in one poll: brokers and partitions
/// (Metadata), each partition's oldest and current offsets (ListOffsets), the consumer groups'
/// committed offsets (OffsetFetch) and the timestamps of the records the time lags start from
/// (Fetch of one record each, cached: the record at an offset never changes).
/// </summary>
/// <remarks>
/// Every call has <see cref="MonitorOptions.RequestTimeout"/>. Works on real Kafka and on
/// librdkafka's mock cluster; the mock has no ListGroups, so there groups come from configuration only.
/// Not thread-safe: one poll loop owns it.
/// </remarks>
public sealed partial class KafkaClusterReader : IDisposable
{
    private readonly IAdminClient _admin;
    private readonly IConsumer<Ignore, Ignore> _recordReader;
    private readonly MonitorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Dictionary<(PartitionKey, long), DateTimeOffset> _timestamps = [];
    private bool _groupListingUnsupportedLogged;
    private bool? _clusterIsMock;

    /// <summary>How librdkafka's mock cluster names itself in Metadata (<c>mockCluster</c> and a hex number).</summary>
    internal const string MockClusterIdPrefix = "mockCluster";

    public KafkaClusterReader(KafkaOptions kafka, MonitorOptions options, TimeProvider time, ILogger<KafkaClusterReader> logger)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        var bootstrap = kafka.BootstrapServers ?? throw new ArgumentException("Kafka:BootstrapServers is required.", nameof(kafka));
        _options = options;
        _time = time;
        _logger = logger;
        _admin = new AdminClientBuilder(KafkaClientConfig.ForAdmin(kafka, "eventplatform-monitor", bootstrap))
            .SetLogHandler((_, _) => { })
            .Build();
        // Assigned only, never subscribed and never committing: the group id is required by the
        // client library but no group is joined, so the exporter never shows up as a consumer itself.
        var consumerConfig = KafkaClientConfig.ForConsumer(kafka, "eventplatform-monitor-records", bootstrap, "eventplatform-monitor");
        consumerConfig.EnableAutoCommit = false;
        consumerConfig.EnableAutoOffsetStore = false;
        consumerConfig.EnablePartitionEof = true;
        consumerConfig.FetchWaitMaxMs = 50;
        consumerConfig.FetchMinBytes = 1;
        // The record at an offset is what is wanted, committed transactions or not.
        consumerConfig.IsolationLevel = IsolationLevel.ReadUncommitted;
        _recordReader = new ConsumerBuilder<Ignore, Ignore>(consumerConfig).SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>Reads the cluster. Throws <see cref="KafkaException"/> when it does not answer (no metadata).</summary>
    public async Task<ClusterReading> ReadAsync(CancellationToken cancellationToken)
    {
        var timeout = _options.RequestTimeout;
        var metadata = _admin.GetMetadata(timeout);
        if (metadata.Brokers.Count == 0)
        {
            throw new KafkaException(ErrorCode.Local_AllBrokersDown);
        }

        var topics = new Dictionary<string, int>(StringComparer.Ordinal);
        var partitionKeys = new List<PartitionKey>();
        foreach (var topic in metadata.Topics)
        {
            if (topic.Error.IsError || _options.ExcludedTopicPrefixes.Any(p => topic.Topic.StartsWith(p, StringComparison.Ordinal)))
            {
                continue;
            }

            topics[topic.Topic] = topic.Partitions.Count;
            // A partition without a leader cannot answer: asking would only cost a timeout.
            partitionKeys.AddRange(topic.Partitions.Where(p => p.Leader >= 0).Select(p => new PartitionKey(topic.Topic, p.PartitionId)));
        }

        var at = _time.GetUtcNow();
        var partitions = await ReadOffsetsAsync(partitionKeys, cancellationToken).ConfigureAwait(false);
        var committed = await ReadCommittedOffsetsAsync(partitionKeys, cancellationToken).ConfigureAwait(false);
        var nothingToRead = new HashSet<(PartitionKey, long)>();
        var timestamps = ReadTimestamps(partitions, committed, nothingToRead, cancellationToken);
        return new ClusterReading(at, metadata.Brokers.Count, topics, partitions, committed, timestamps, nothingToRead);
    }

    /// <summary>
    /// Each partition's oldest and current offsets: two batched ListOffsets calls (earliest, latest),
    /// one request per leader each. Partitions that did not answer are left out of this poll.
    /// </summary>
    private async Task<Dictionary<PartitionKey, PartitionOffsets>> ReadOffsetsAsync(List<PartitionKey> keys, CancellationToken cancellationToken)
    {
        var result = new Dictionary<PartitionKey, PartitionOffsets>();
        if (keys.Count == 0)
        {
            return result;
        }

        var oldest = await ListOffsetsAsync(keys, OffsetSpec.Earliest()).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var current = await ListOffsetsAsync(keys, OffsetSpec.Latest()).ConfigureAwait(false);
        foreach (var key in keys)
        {
            if (oldest.TryGetValue(key, out var low) && current.TryGetValue(key, out var high))
            {
                result[key] = new PartitionOffsets(low, high);
            }
        }

        return result;
    }

    private async Task<Dictionary<PartitionKey, long>> ListOffsetsAsync(List<PartitionKey> keys, OffsetSpec spec)
    {
        var request = keys.Select(k => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(k.Topic, k.Partition), OffsetSpec = spec });
        IEnumerable<ListOffsetsResultInfo> infos;
        try
        {
            var answer = await _admin.ListOffsetsAsync(request, new ListOffsetsOptions { RequestTimeout = _options.RequestTimeout }).ConfigureAwait(false);
            infos = answer.ResultInfos;
        }
        catch (ListOffsetsException ex)
        {
            // Partitions that answered are kept; the others are logged and left out.
            infos = ex.Result.ResultInfos;
        }
        catch (KafkaException ex)
        {
            // The metadata answered, so the cluster is up: only the offsets are missing from this poll.
            LogOffsetsFailed(_logger, "every partition", ex.Error.Reason);
            infos = [];
        }

        var offsets = new Dictionary<PartitionKey, long>();
        foreach (var tpo in infos.Select(i => i.TopicPartitionOffsetError))
        {
            if (tpo.Error.IsError || tpo.Offset.Value < 0)
            {
                LogOffsetsFailed(_logger, $"{tpo.Topic}[{tpo.Partition.Value}]", tpo.Error.Reason);
                continue;
            }

            offsets[new PartitionKey(tpo.Topic, tpo.Partition.Value)] = tpo.Offset.Value;
        }

        return offsets;
    }

    private async Task<Dictionary<string, IReadOnlyDictionary<PartitionKey, long>>> ReadCommittedOffsetsAsync(List<PartitionKey> partitionKeys, CancellationToken cancellationToken)
    {
        var groups = new SortedSet<string>(_options.ConsumerGroups.Concat(_options.PipelineStages.Values).Where(g => g.Length > 0), StringComparer.Ordinal);
        if (_options.DiscoverConsumerGroups)
        {
            foreach (var group in await DiscoverGroupsAsync().ConfigureAwait(false))
            {
                groups.Add(group);
            }
        }

        var committed = new Dictionary<string, IReadOnlyDictionary<PartitionKey, long>>(StringComparer.Ordinal);
        // Every reported partition is named: "all partitions" (null) is what real Kafka understands,
        // but librdkafka's mock cluster answers it with nothing.
        var allPartitions = partitionKeys.Select(k => new TopicPartition(k.Topic, k.Partition)).ToList();
        if (allPartitions.Count == 0)
        {
            return committed;
        }

        foreach (var group in groups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                // One group per request: librdkafka's ListConsumerGroupOffsets takes one at a time.
                var results = await _admin.ListConsumerGroupOffsetsAsync(
                    [new ConsumerGroupTopicPartitions(group, allPartitions)],
                    new ListConsumerGroupOffsetsOptions { RequestTimeout = _options.RequestTimeout }).ConfigureAwait(false);
                var offsets = new Dictionary<PartitionKey, long>();
                foreach (var tpo in results.SelectMany(r => r.Partitions))
                {
                    if (!tpo.Error.IsError && tpo.Offset.Value >= 0)
                    {
                        offsets[new PartitionKey(tpo.Topic, tpo.Partition.Value)] = tpo.Offset.Value;
                    }
                }

                committed[group] = offsets;
            }
            catch (KafkaException ex)
            {
                LogGroupOffsetsFailed(_logger, group, ex.Message);
            }
        }

        return committed;
    }

    private async Task<IEnumerable<string>> DiscoverGroupsAsync()
    {
        _clusterIsMock ??= KafkaClusterId.TryGet(_admin.Handle, _options.RequestTimeout)?.StartsWith(MockClusterIdPrefix, StringComparison.Ordinal) ?? false;
        if (_clusterIsMock.Value)
        {
            // librdkafka's mock cluster has no ListGroups, and asking it aborts the process that
            // hosts it (seen: heap corruption in the mock): never ask the embedded broker.
            if (!_groupListingUnsupportedLogged)
            {
                _groupListingUnsupportedLogged = true;
                LogGroupListingFailed(_logger, "the embedded broker has no ListGroups");
            }

            return [];
        }

        try
        {
            var listing = await _admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = _options.RequestTimeout }).ConfigureAwait(false);
            return listing.Valid.Select(g => g.GroupId);
        }
        catch (KafkaException ex)
        {
            if (!_groupListingUnsupportedLogged)
            {
                _groupListingUnsupportedLogged = true;
                LogGroupListingFailed(_logger, ex.Message);
            }

            return [];
        }
    }

    /// <summary>
    /// The timestamp of the oldest unconsumed record of every group and partition that lags, from
    /// the cache or by fetching that one record; those not read within the deadline are left out.
    /// </summary>
    private Dictionary<(PartitionKey, long), DateTimeOffset> ReadTimestamps(
        Dictionary<PartitionKey, PartitionOffsets> partitions,
        Dictionary<string, IReadOnlyDictionary<PartitionKey, long>> committed,
        HashSet<(PartitionKey, long)> nothingToRead,
        CancellationToken cancellationToken)
    {
        var wanted = new HashSet<(PartitionKey Partition, long Offset)>();
        foreach (var (partition, offset) in committed.Values.SelectMany(g => g))
        {
            if (partitions.TryGetValue(partition, out var offsets) && ClusterReading.OldestUnconsumedOffset(offset, offsets) is { } oldest)
            {
                wanted.Add((partition, oldest));
            }
        }

        // Only what this poll needs is kept: committed offsets move on, older entries are never asked for again.
        var kept = new Dictionary<(PartitionKey, long), DateTimeOffset>();
        var missing = new Dictionary<PartitionKey, long>();
        foreach (var want in wanted)
        {
            if (_timestamps.TryGetValue(want, out var known))
            {
                kept[want] = known;
            }
            else if (!missing.TryGetValue(want.Partition, out var other) || want.Offset < other)
            {
                // Several groups may lag on one partition: fetch the oldest now, the others next poll.
                missing[want.Partition] = want.Offset;
            }
        }

        if (missing.Count > 0)
        {
            FetchTimestamps(missing, kept, nothingToRead, cancellationToken);
        }

        _timestamps = kept;
        return kept;
    }

    private void FetchTimestamps(
        Dictionary<PartitionKey, long> missing,
        Dictionary<(PartitionKey, long), DateTimeOffset> into,
        HashSet<(PartitionKey, long)> nothingToRead,
        CancellationToken cancellationToken)
    {
        var pending = new Dictionary<PartitionKey, long>(missing);
        _recordReader.Assign(missing.Select(m => new TopicPartitionOffset(m.Key.Topic, m.Key.Partition, m.Value)));
        try
        {
            var deadline = _time.GetTimestamp() + (long)(_options.RequestTimeout.TotalSeconds * _time.TimestampFrequency);
            while (pending.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                ConsumeResult<Ignore, Ignore>? record;
                try
                {
                    record = _recordReader.Consume(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException ex)
                {
                    LogRecordReadFailed(_logger, ex.ConsumerRecord?.Topic ?? "?", ex.Error.Reason);
                    continue;
                }

                if (record is null)
                {
                    continue;
                }

                var key = new PartitionKey(record.Topic, record.Partition.Value);
                if (!pending.TryGetValue(key, out var requested))
                {
                    continue;
                }

                if (record.IsPartitionEOF)
                {
                    // Only transaction markers up to the log end: nothing left to consume. Not
                    // cached: the next record written here will have a timestamp.
                    nothingToRead.Add((key, requested));
                }
                else if (record.Message.Timestamp.Type != TimestampType.NotAvailable)
                {
                    into[(key, requested)] = record.Message.Timestamp.UtcDateTime;
                }

                pending.Remove(key);
                _recordReader.Pause([new TopicPartition(key.Topic, key.Partition)]);
            }
        }
        finally
        {
            _recordReader.Unassign();
        }
    }

    public void Dispose()
    {
        _recordReader.Dispose();
        _admin.Dispose();
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "Committed offsets of consumer group {Group} could not be read: {Reason}")]
    private static partial void LogGroupOffsetsFailed(ILogger logger, string group, string reason);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Consumer groups cannot be listed on this cluster ({Reason}); only the configured Monitor:ConsumerGroups are reported")]
    private static partial void LogGroupListingFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Debug, Message = "Offsets of {Partition} could not be read: {Reason}")]
    private static partial void LogOffsetsFailed(ILogger logger, string partition, string reason);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Debug, Message = "A record of {Topic} could not be read for its timestamp: {Reason}")]
    private static partial void LogRecordReadFailed(ILogger logger, string topic, string reason);
}
