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
    /// How long a claim holds a key without a result. A gateway that crashed mid-request frees its
    /// keys after this; a retry then publishes again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The Kafka topic shared by every gateway instance. Created, where the cluster allows, with
    /// <c>retention.ms</c> = <see cref="Window"/> + <see cref="RetentionMargin"/>.
    /// </summary>
    [Required]
    public string Topic { get; set; } = "_eventplatform.idempotency";

    /// <summary>Partitions of the topic when the platform creates it (an existing topic keeps its own count).</summary>
    [Range(1, 1000)]
    public int Partitions { get; set; } = 12;

    /// <summary>
    /// Added to <see cref="Window"/> for the topic's retention, so that a record is never deleted
    /// while it can still answer a retry (records carry their producer's timestamp; clocks differ).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan RetentionMargin { get; set; } = TimeSpan.FromHours(1);
}
