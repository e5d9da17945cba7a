using EventPlatform.Hosting.Metrics;

namespace EventPlatform.Monitoring.Tests;

/// <summary>What a scrape serves from the published snapshots: series follow the cluster, none are left stale.</summary>
public sealed class KafkaExporterMetricsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);
    private static readonly PartitionKey Clicks = new("events.clickstream", 0);

    private static async Task<string> ScrapeAsync(MetricsRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static ExporterSnapshot Snapshot(string group, double? lagSeconds) => new(
        At,
        3,
        [new TopicFigures(Clicks.Topic, 1, 2.5)],
        [new PartitionFigures(Clicks, new PartitionOffsets(0, 10))],
        [new GroupPartitionFigures(group, Clicks, 4, 6, lagSeconds)],
        [new GroupFigures(group, 6, 1, 6)],
        null);

    [Fact]
    public async Task Series_of_a_group_that_is_gone_are_removed_at_the_next_scrape()
    {
        var registry = new MetricsRegistry();
        var metrics = new KafkaExporterMetrics(registry);
        metrics.Publish(Snapshot("old-group", 12));
        var before = await ScrapeAsync(registry);

        metrics.Publish(Snapshot("new-group", 12));
        var after = await ScrapeAsync(registry);

        Assert.Equal(6, ClusterActions.Sample(before, "kafka_consumergroup_lag{consumergroup=\"old-group\",topic=\"events.clickstream\",partition=\"0\"}"));
        Assert.DoesNotContain("old-group", after, StringComparison.Ordinal);
        Assert.Equal(6, ClusterActions.Sample(after, "kafka_consumergroup_lag{consumergroup=\"new-group\",topic=\"events.clickstream\",partition=\"0\"}"));
        Assert.Equal(2.5, ClusterActions.Sample(after, "kafka_server_broker_topic_metrics_messages_in_per_sec{topic=\"events.clickstream\"}"));
    }

    [Fact]
    public async Task An_unknown_time_lag_is_absent_rather_than_zero_and_unreachable_serves_only_kafka_brokers_zero()
    {
        var registry = new MetricsRegistry();
        var metrics = new KafkaExporterMetrics(registry);
        metrics.Publish(Snapshot("g", lagSeconds: null));
        var unknown = await ScrapeAsync(registry);

        metrics.Publish(ExporterSnapshot.Unreachable(At));
        var unreachable = await ScrapeAsync(registry);

        Assert.Null(ClusterActions.Sample(unknown, "kafka_consumer_lag_seconds{consumergroup=\"g\",topic=\"events.clickstream\",partition=\"0\"}"));
        Assert.Equal(6, ClusterActions.Sample(unknown, "kafka_consumergroup_lag{consumergroup=\"g\",topic=\"events.clickstream\",partition=\"0\"}"));
        Assert.Equal(0, ClusterActions.Sample(unreachable, "kafka_brokers"));
        Assert.DoesNotContain("kafka_consumergroup_lag{", unreachable, StringComparison.Ordinal);
        Assert.DoesNotContain("kafka_topic_partition_current_offset{", unreachable, StringComparison.Ordinal);
    }
}
