using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Sink.Configuration;

/// <summary>
/// The sink service's settings (section <c>Sink</c>). The connector itself is configured in the
/// seed's keys: from <see cref="ConnectorConfigFile"/> (the seed's JSON, as is) and/or
/// <see cref="Connector"/> (<c>--Sink:Connector:buffer.flush.time=60</c>), the latter winning.
/// </summary>
public sealed class SinkOptions
{
    public const string SectionName = "Sink";

    /// <summary>The seed's connector JSON file (<c>{"name": ..., "config": {...}}</c>); <c>${ENV}</c> placeholders are resolved.</summary>
    public string? ConnectorConfigFile { get; set; }

    /// <summary>Connector keys given directly (Kafka Connect's names).</summary>
    public Dictionary<string, string> Connector { get; set; } = [];

    /// <summary>The DuckDB file; default <c>{data directory}/warehouse.duckdb</c>.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>Where connector configs are kept (the Connect REST API's); default <c>{data directory}/connect</c>.</summary>
    public string? ConnectorDirectory { get; set; }

    /// <summary>
    /// <c>file</c> (the default: <see cref="ConnectorDirectory"/>, one worker, Kafka Connect's
    /// standalone mode) or <c>kafka</c> (the compacted <see cref="ConfigTopic"/>, shared by every
    /// worker that names it: Kafka Connect's distributed mode).
    /// </summary>
    [RegularExpression("^(?i)(file|kafka)$", ErrorMessage = "Sink:ConfigStorage must be 'file' or 'kafka'.")]
    public string ConfigStorage { get; set; } = "file";

    /// <summary>The config topic with <see cref="ConfigStorage"/> <c>kafka</c> (Kafka Connect's <c>config.storage.topic</c>).</summary>
    [Required]
    [MinLength(1)]
    public string ConfigTopic { get; set; } = "connect-configs";

    /// <summary>The seed's retry base delay (1 s); tests shorten it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The seed's retry delay cap (60 s): also how often a warehouse that stays away is tried again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Write attempts before rows the warehouse refuses go to the DLQ (the seed's sink: 5).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// The task threads' nice value on Linux, 0 (the process's priority, the default) to 19. <c>up</c> sets
    /// 10, so that on a machine shared with the gateway the sink takes the CPU the gateway leaves.
    /// </summary>
    [Range(0, Kafka.Consuming.ThreadNiceness.Lowest)]
    public int ThreadNiceness { get; set; }

    /// <summary>How long to wait for the Kafka cluster's id at start.</summary>
    public TimeSpan ClusterIdTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The identity offsets are tagged with when the cluster reports no id (configure one per cluster then).</summary>
    public string? FallbackClusterId { get; set; }
}
