namespace EventPlatform.Core.Events;

/// <summary>
/// One event as accepted by the platform: the seed's <c>Event</c> model.
/// </summary>
/// <remarks>
/// <see cref="Payload"/> and <see cref="Metadata"/> hold the raw UTF-8 JSON of those objects,
/// sliced from the request body without copying; they are valid as long as that buffer is.
/// An instance is immutable and safe to share between threads while its buffer lives.
/// </remarks>
public sealed class IngestEvent
{
    public required string EventId { get; init; }

    /// <summary>When the event happened (event time), normalised to UTC.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    public required string EventType { get; init; }

    public string? UserId { get; init; }

    public string? DeviceId { get; init; }

    /// <summary>Raw JSON of the payload object (never empty for a valid event).</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Raw JSON of the metadata object, or empty when absent or null.</summary>
    public ReadOnlyMemory<byte> Metadata { get; init; }

    /// <summary>
    /// The Kafka record key: <c>user_id</c>, else <c>device_id</c>, else none (Property 4).
    /// </summary>
    public string? PartitionKey => UserId ?? DeviceId;
}
