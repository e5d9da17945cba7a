using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Gateway;

/// <summary>The ingestion API's limits and policies. Bound from the <c>Gateway</c> section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Where the API listens: loopback only unless told otherwise; <c>http://0.0.0.0:8000</c> (or
    /// <c>http://+:8000</c>) for every interface, as containers set it.
    /// </summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8000";

    /// <summary>
    /// Run request processing on the thread that completed the socket read or write instead of
    /// queueing it to the thread pool (Kestrel's <c>UnsafePreferInlineScheduling</c>): fewer thread
    /// hops and wake-ups per request. Safe because no handler blocks a thread; turn it off if one must.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>Largest body of a single-event request.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest body of a batch request.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most events in one batch request.</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 1000;

    /// <summary>
    /// How far ahead of the gateway's clock an event's <c>timestamp</c> may be (Kafka 4 brokers refuse
    /// records more than an hour ahead by default: <c>log.message.timestamp.after.max.ms</c>). Keep it
    /// at or below the brokers' setting, so that the gateway refuses what Kafka would.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan TimestampMaxAhead { get; set; } = Core.Events.EventTimeBounds.DefaultMaxAhead;

    /// <summary>
    /// How far behind the gateway's clock an event's <c>timestamp</c> may be; unset (the default) for
    /// no limit. Times before 1970 are always refused: a Kafka record timestamp cannot be negative.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "36500.00:00:00")]
    public TimeSpan? TimestampMaxAge { get; set; }

    /// <summary>
    /// Property 19: an event type not seen before gets its own topic (<c>events.&lt;type&gt;</c>).
    /// Off by default: an unknown type is then a 400.
    /// </summary>
    public bool DynamicTopics { get; set; }

    [Range(1, 10_000)]
    public int DynamicTopicPartitions { get; set; } = 12;

    [Range(1, 32)]
    public short DynamicTopicReplicationFactor { get; set; } = 3;

    /// <summary>Attempts to hand an event to Kafka before answering 503 (the seed's 3).</summary>
    [Range(1, 10)]
    public int PublishMaxAttempts { get; set; } = 3;

    /// <summary>The seed's backoff base delay.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan PublishBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The seed's backoff cap.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan PublishMaxDelay { get; set; } = TimeSpan.FromSeconds(60);
}
