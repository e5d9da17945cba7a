using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Monitoring;

/// <summary>
/// The Kafka exporter's settings, bound from the <c>Monitor</c> section (<c>--Monitor:PollInterval=00:00:10</c>,
/// <c>Monitor__ConsumerGroups__0=my-group</c>) and validated at start.
/// </summary>
public sealed class MonitorOptions
{
    public const string SectionName = "Monitor";

    /// <summary>Where <c>/metrics</c> and health are served; kafka_exporter's default port.</summary>
    public const string DefaultUrls = "http://127.0.0.1:9308";

    /// <summary>How often the cluster is read. A scrape never waits for Kafka: it serves the last reading.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The deadline of each Kafka request of a poll. A poll that cannot reach the cluster within it
    /// reports <c>kafka_brokers 0</c> and readiness false.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The window of the rates (messages in per second, consumption) and of the catch-up estimate.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Consumer groups to report in any case. Groups are also discovered with ListGroups when the
    /// cluster supports it (real Kafka does; librdkafka's mock cluster, the embedded broker, does not,
    /// so there only these are reported).
    /// </summary>
    public List<string> ConsumerGroups { get; set; } = [];

    /// <summary>
    /// The pipeline's stages after the gateway, each the consumer group that moves events on
    /// (<c>--Monitor:PipelineStages:processor=default-job --Monitor:PipelineStages:sink=connect-eventplatform-sink</c>):
    /// served as <c>eventplatform_pipeline_stage_lag_seconds{stage}</c> and its catch-up estimate. Their
    /// groups are reported even when not listed in <see cref="ConsumerGroups"/>.
    /// </summary>
    public Dictionary<string, string> PipelineStages { get; set; } = [];

    /// <summary>Discover groups with ListGroups (in addition to <see cref="ConsumerGroups"/>).</summary>
    public bool DiscoverConsumerGroups { get; set; } = true;

    /// <summary>Topics whose name starts with one of these are not reported (Kafka's internal topics).</summary>
    public List<string> ExcludedTopicPrefixes { get; set; } = ["__"];

    /// <summary>The dead letter topic, whose retained messages <c>eventplatform_dlq_messages</c> counts.</summary>
    [Required]
    public string DlqTopic { get; set; } = "events.dlq";
}
