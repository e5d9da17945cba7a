using System.Globalization;
using EventPlatform.Hosting.Metrics;
using Prometheus;

namespace EventPlatform.Monitoring;

/// <summary>
/// The exporter's series on the service's <c>/metrics</c>, with kafka_exporter's names where it
/// has one. At each scrape the latest <see cref="ExporterSnapshot"/> is written onto the gauges
/// (no Kafka call): every series of the snapshot is set, and series it no longer has (a topic
/// deleted, a group gone, the cluster unreachable) are removed rather than left at a stale value.
/// </summary>
/// <remarks>
/// Why prometheus-net gauges here rather than <see cref="System.Diagnostics.Metrics"/> like the
/// libraries: these series are a snapshot replaced whole at each poll, and series must disappear
/// with what they describe; observable instruments, as the host exports them, never forget one.
/// Thread-safe: <see cref="Publish"/> swaps an immutable snapshot; scrapes apply it under a lock.
/// </remarks>
public sealed class KafkaExporterMetrics
{
    private readonly Lock _applyGate = new();
    private readonly Gauge _brokers;
    private readonly SeriesSet _topicPartitions;
    private readonly SeriesSet _messagesIn;
    private readonly SeriesSet _currentOffset;
    private readonly SeriesSet _oldestOffset;
    private readonly SeriesSet _groupOffset;
    private readonly SeriesSet _groupLag;
    private readonly SeriesSet _groupLagSeconds;
    private readonly SeriesSet _groupConsumed;
    private readonly SeriesSet _groupCatchUp;
    private readonly SeriesSet _dlqMessages;
    private readonly SeriesSet _stageLagSeconds;
    private readonly SeriesSet _stageLag;
    private readonly SeriesSet _stageCatchUp;
    private readonly Gauge _lastPoll;
    private volatile ExporterSnapshot? _snapshot;

    public KafkaExporterMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var f = registry.Factory;
        string[] topic = ["topic"];
        string[] partition = ["topic", "partition"];
        string[] groupPartition = ["consumergroup", "topic", "partition"];
        string[] group = ["consumergroup"];
        _brokers = f.CreateGauge("kafka_brokers", "Brokers in the cluster's metadata; 0 while the cluster does not answer.");
        _topicPartitions = new(f.CreateGauge("kafka_topic_partitions", "Partitions of the topic.", topic));
        _messagesIn = new(f.CreateGauge("kafka_server_broker_topic_metrics_messages_in_per_sec",
            "Messages written to the topic per second: growth of its partitions' log end offsets over the rate window (Monitor:RateWindow, 1 min).", topic));
        _currentOffset = new(f.CreateGauge("kafka_topic_partition_current_offset", "The partition's log end offset (high watermark): the offset the next message will get.", partition));
        _oldestOffset = new(f.CreateGauge("kafka_topic_partition_oldest_offset", "The partition's oldest retained offset (low watermark).", partition));
        _groupOffset = new(f.CreateGauge("kafka_consumergroup_current_offset", "The consumer group's committed offset on the partition: the next message it will read.", groupPartition));
        _groupLag = new(f.CreateGauge("kafka_consumergroup_lag", "Messages the consumer group has not consumed on the partition: log end offset minus committed offset.", groupPartition));
        _groupLagSeconds = new(f.CreateGauge("kafka_consumer_lag_seconds",
            "How far behind the consumer group is in time on the partition: now minus the timestamp of the oldest record it has not consumed (the record at its committed offset); 0 when caught up.", groupPartition));
        _groupConsumed = new(f.CreateGauge("kafka_consumergroup_consumed_per_sec",
            "Messages per second the consumer group committed over the rate window, on all its partitions.", group));
        _groupCatchUp = new(f.CreateGauge("kafka_consumergroup_catchup_seconds",
            "Estimated seconds until the consumer group's lag is zero: lag / (consumed per second - produced per second on its partitions) over the rate window; 0 when caught up, +Inf when the lag is not shrinking.", group));
        _dlqMessages = new(f.CreateGauge("eventplatform_dlq_messages", "Messages retained in the dead letter topic (Monitor:DlqTopic): the sum over its partitions of log end minus oldest offset.", topic));
        string[] stage = ["stage", "consumergroup"];
        _stageLagSeconds = new(f.CreateGauge("eventplatform_pipeline_stage_lag_seconds",
            "How far behind the pipeline stage is in time: the age of the oldest record its consumer group has not consumed (the most-behind partition); 0 when caught up. Stages: Monitor:PipelineStages.", stage));
        _stageLag = new(f.CreateGauge("eventplatform_pipeline_stage_lag_messages", "Messages the pipeline stage's consumer group has not consumed, over its partitions.", stage));
        _stageCatchUp = new(f.CreateGauge("eventplatform_pipeline_stage_catchup_seconds",
            "Estimated seconds until the pipeline stage is caught up at the recent consumption and production rates; 0 when caught up, +Inf when its lag is not shrinking.", stage));
        _lastPoll = f.CreateGauge("kafka_exporter_last_poll_timestamp_seconds", "When the exporter last read the cluster (successfully or not), Unix seconds.");
        registry.Registry.AddBeforeCollectCallback(Apply);
    }

    /// <summary>The snapshot the next scrape serves.</summary>
    public ExporterSnapshot? Current => _snapshot;

    /// <summary>Makes <paramref name="snapshot"/> what scrapes serve from now on.</summary>
    public void Publish(ExporterSnapshot snapshot) => _snapshot = snapshot;

    private void Apply()
    {
        var snapshot = _snapshot;
        if (snapshot is null)
        {
            return;
        }

        lock (_applyGate)
        {
            _brokers.Set(snapshot.Brokers);
            _lastPoll.Set(snapshot.At.ToUnixTimeMilliseconds() / 1000.0);
            _topicPartitions.Replace(snapshot.Topics.Select(t => (Labels(t.Topic), (double?)t.Partitions)));
            _messagesIn.Replace(snapshot.Topics.Select(t => (Labels(t.Topic), t.MessagesInPerSecond)));
            _currentOffset.Replace(snapshot.Partitions.Select(p => (Labels(p.Partition), (double?)p.Offsets.Current)));
            _oldestOffset.Replace(snapshot.Partitions.Select(p => (Labels(p.Partition), (double?)p.Offsets.Oldest)));
            _groupOffset.Replace(snapshot.GroupPartitions.Select(g => (Labels(g.Group, g.Partition), (double?)g.CommittedOffset)));
            _groupLag.Replace(snapshot.GroupPartitions.Select(g => (Labels(g.Group, g.Partition), (double?)g.Lag)));
            _groupLagSeconds.Replace(snapshot.GroupPartitions.Select(g => (Labels(g.Group, g.Partition), g.LagSeconds)));
            _groupConsumed.Replace(snapshot.Groups.Select(g => (Labels(g.Group), g.ConsumedPerSecond)));
            _groupCatchUp.Replace(snapshot.Groups.Select(g => (Labels(g.Group), g.CatchUpSeconds)));
            _stageLagSeconds.Replace(snapshot.Stages.Select(s => (Labels(s.Stage, s.Group), s.LagSeconds)));
            _stageLag.Replace(snapshot.Stages.Select(s => (Labels(s.Stage, s.Group), (double?)s.Lag)));
            _stageCatchUp.Replace(snapshot.Stages.Select(s => (Labels(s.Stage, s.Group), s.CatchUpSeconds)));
            _dlqMessages.Replace(snapshot.Dlq is { } dlq ? [(Labels(dlq.Topic), (double?)dlq.Messages)] : []);
        }
    }

    private static string[] Labels(string value) => [value];

    private static string[] Labels(string first, string second) => [first, second];

    private static string[] Labels(PartitionKey partition) => [partition.Topic, partition.Partition.ToString(CultureInfo.InvariantCulture)];

    private static string[] Labels(string group, PartitionKey partition) => [group, partition.Topic, partition.Partition.ToString(CultureInfo.InvariantCulture)];

    /// <summary>The series of one labelled gauge, remembering which exist so that vanished ones are removed.</summary>
    private sealed class SeriesSet(Gauge gauge)
    {
        private HashSet<LabelKey> _present = [];

        /// <summary>Sets each series with a value; removes the others (including those whose value is now unknown).</summary>
        public void Replace(IEnumerable<(string[] Labels, double? Value)> series)
        {
            var now = new HashSet<LabelKey>();
            foreach (var (labels, value) in series)
            {
                if (value is not { } v)
                {
                    continue;
                }

                gauge.WithLabels(labels).Set(v);
                now.Add(new LabelKey(labels));
            }

            foreach (var gone in _present.Where(p => !now.Contains(p)))
            {
                gauge.RemoveLabelled(gone.Values);
            }

            _present = now;
        }
    }

    private sealed class LabelKey(string[] values) : IEquatable<LabelKey>
    {
        public string[] Values => values;

        public bool Equals(LabelKey? other) => other is not null && values.AsSpan().SequenceEqual(other.Values);

        public override bool Equals(object? obj) => Equals(obj as LabelKey);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var v in values)
            {
                hash.Add(v, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}
