using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Gateway.Protection;

/// <summary>
/// Per-client limits: requests (the seed's 100 requests/minute), events on every entry point, and
/// concurrent WebSocket ingest connections. A client is the token's subject, else the caller's
/// address. Bound from <c>Gateway:RateLimit</c>.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Gateway:RateLimit";

    /// <summary>Off only for load tests and trusted internal callers.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Single-event requests (and other API calls) a client may make per window.</summary>
    [Range(1, int.MaxValue)]
    public int PermitsPerWindow { get; set; } = 100;

    /// <summary>Batch requests a client may make per window: a separate allowance, since each carries many events.</summary>
    [Range(1, int.MaxValue)]
    public int BatchPermitsPerWindow { get; set; } = 20;

    /// <summary>
    /// Events a client may send per window, counted on every entry point: a single POST takes one,
    /// a batch of N takes N, each event of a WebSocket ingest message takes one. The default is what
    /// the batch allowance carried before events were counted (20 batches of 1,000). It must be at
    /// least <c>Gateway:MaxBatchEvents</c>, or the largest batch could never be taken.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int EventsPerWindow { get; set; } = 20_000;

    /// <summary>WebSocket ingest connections a client may hold open at once; one more is refused at the upgrade with 429.</summary>
    [Range(1, 10_000)]
    public int IngestSocketsPerClient { get; set; } = 8;

    /// <summary>The window the permits refer to (the seed's minute).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The window slides in this many steps, so a client cannot spend two windows' permits at a window edge.</summary>
    [Range(1, 60)]
    public int SegmentsPerWindow { get; set; } = 6;
}
