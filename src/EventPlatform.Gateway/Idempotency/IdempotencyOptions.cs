using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>Idempotent publishing. Bound from <c>Gateway:Idempotency</c>.</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "Gateway:Idempotency";

    public bool Enabled { get; set; } = true;

    /// <summary>How long a key's first result is remembered and returned to retries.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a claim holds a key without a result before a retry may resolve it: longer than the
    /// longest publish, so that by then the claim's event is either in Kafka or never will be. A
    /// retry then looks for the event (by its claim header) and replays it, or publishes if it is not there.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The Kafka topic shared by every gateway instance. Created, where the cluster allows, with
    /// <c>retention.ms</c> = <see cref="Window"/> + <see cref="RetentionMargin"/>.
    /// </summary>
    [Required]
    public string Topic { get; set; } = "_eventplatform.idempotency";

    /// <summary>
    /// Partitions of the topic when the platform creates it (an existing topic keeps its own count;
    /// never add partitions to it: a key's partition is computed from the count). Few on purpose:
    /// entries share records per partition, so fewer partitions mean fuller records and less work
    /// for the cluster; one partition carries tens of thousands of entries a second.
    /// </summary>
    [Range(1, 1000)]
    public int Partitions { get; set; } = 3;

    /// <summary>
    /// Added to <see cref="Window"/> for the topic's retention, so that a record is never deleted
    /// while it can still answer a retry (records carry their producer's timestamp; clocks differ).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan RetentionMargin { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The most keys a gateway remembers (about 150 bytes each: the default holds ~150 MB). When
    /// reached, settled keys are forgotten oldest first (never a claim still in progress); a retry of
    /// a forgotten key publishes again. Watch <c>idempotency_oldest_key_age_seconds</c>: it is the window in effect.
    /// </summary>
    [Range(1000, 200_000_000)]
    public int MaxKeys { get; set; } = 1_000_000;

    /// <summary>
    /// How long the idempotency log's producer waits to fill a record. Entries already share a record
    /// while the previous one is in flight; a short wait fills records further, so the cluster handles
    /// fewer of them, for that much latency per request.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.100")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Records of the idempotency log each partition may have unacknowledged at once (1 by default:
    /// entries arriving meanwhile share the next record). More lets a claim leave before the previous
    /// record's acknowledgement, in order through the idempotent producer; measured with 4, throughput was
    /// within the runs' noise, and after a hung broker (the exactly-once ingest test) claims were refused
    /// for 90 s in one run of three, so it is not the default (README, sixth round).
    /// </summary>
    [Range(1, 5)]
    public int RecordsInFlight { get; set; } = 1;

    /// <summary>
    /// How long the reader of the topic lets the broker hold a fetch that has nothing new. A request
    /// waits for its claim to be read back: on a broker that answers an empty fetch only when this
    /// expires (the embedded one) it bounds that wait; on Kafka a fetch returns as soon as data arrives.
    /// Shorter waits less, for more (cheap) empty fetches: 1 ms took 1.5 ms off the mean claim round trip
    /// (9.2 to 7.7 ms) for 6 % more of a core in the embedded broker, at the same throughput.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:00.500")]
    public TimeSpan ReadWait { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How far apart gateway clocks may be. Resolving a claim left in doubt reads the event topic
    /// from where it stood this long before the claim.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reading the topic at start has no overall deadline; it fails only when it makes no progress
    /// for this long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CatchUpStallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
