using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// Limits of the read side of the gateway: the latest-events query, the WebSocket stream and
/// WebSocket ingest. Bound from the <c>Gateway:Streaming</c> section.
/// </summary>
public sealed class StreamingOptions
{
    public const string SectionName = "Gateway:Streaming";

    /// <summary><c>GET .../latest</c> without <c>limit</c> returns this many events.</summary>
    [Range(1, 100_000)]
    public int LatestDefaultLimit { get; set; } = 100;

    /// <summary>The largest <c>limit</c> a client may ask for; more is a 400.</summary>
    [Range(1, 100_000)]
    public int LatestMaxLimit { get; set; } = 1000;

    /// <summary>
    /// Kafka consumers kept for the latest-events query. Each serves one request at a time;
    /// further requests wait for a free one (librdkafka clients are too heavy to make per request).
    /// </summary>
    [Range(1, 64)]
    public int LatestReaders { get; set; } = 2;

    /// <summary>How long one latest-events query may take before it is answered 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan LatestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Frames queued per WebSocket subscriber. A subscriber that falls this far behind is closed
    /// (1008, "slow consumer") so that it never holds up the others or grows memory without bound.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SubscriberQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// How long a topic's shared Kafka consumer stays up after its last subscriber left, so that
    /// clients that reconnect do not pay for a new consumer each time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan HubIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The stream consumers' <c>fetch.wait.max.ms</c>: the longest a broker holds a fetch that found
    /// nothing. Bounds the delivery latency on brokers that do not answer a waiting fetch as soon as
    /// data arrives (the embedded one); lower costs more idle fetches.
    /// </summary>
    [Range(1, 10_000)]
    public int FetchWaitMaxMs { get; set; } = 10;

    /// <summary>
    /// Events of one WebSocket ingest connection that may await their acknowledgement; at the bound
    /// the gateway stops reading the client's frames until acknowledgements have gone out.
    /// </summary>
    [Range(1, 100_000)]
    public int IngestMaxUnacknowledged { get; set; } = 1000;

    /// <summary>Largest WebSocket ingest message (one event or an array of events); larger closes with 1009.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int IngestMaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Interval of WebSocket keep-alive pings (the server's side; 0 turns them off).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a closing WebSocket may take: a close handshake the client does not complete, or a
    /// send stuck on a client that stopped reading, is cut off after this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
