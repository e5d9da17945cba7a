namespace EventPlatform.Gateway.Api;

/// <summary>
/// The seed's <c>EventResponse</c> (Property 11): sent only after Kafka acknowledged the write.
/// </summary>
/// <param name="Status">"accepted".</param>
/// <param name="EventId">The event's id, as sent.</param>
/// <param name="Topic">The full Kafka topic name.</param>
/// <param name="Partition">The partition the event was written to.</param>
/// <param name="Offset">The event's offset in that partition.</param>
/// <param name="Timestamp">When Kafka acknowledged the write (UTC).</param>
public sealed record EventResponse(string Status, string EventId, string Topic, int Partition, long Offset, DateTimeOffset Timestamp)
{
    public const string Accepted = "accepted";
}

/// <summary>One slot of a batch answer: either the event's <see cref="EventResponse"/> fields or its error.</summary>
/// <param name="Replayed">True when the idempotency key already had this answer, so nothing was written this time; absent otherwise.</param>
public sealed record BatchItemResult(
    int Index,
    string Status,
    string? EventId,
    string? Topic,
    int? Partition,
    long? Offset,
    DateTimeOffset? Timestamp,
    BatchItemError? Error,
    bool? Replayed = null)
{
    public const string Rejected = "rejected";
}

/// <summary>Why one event of a batch was not accepted.</summary>
public sealed record BatchItemError(string ErrorCode, string Message, System.Text.Json.Nodes.JsonObject? Details);

/// <summary>The answer to a batch: one result per event, in request order, and the counts.</summary>
public sealed record BatchResponse(int Accepted, int Rejected, IReadOnlyList<BatchItemResult> Results);

/// <summary>The seed's <c>HealthResponse</c>, with every flag measured at call time (cached for a second).</summary>
public sealed record HealthResponse(string Status, bool KafkaConnected, bool SchemaRegistryConnected, double UptimeSeconds);
