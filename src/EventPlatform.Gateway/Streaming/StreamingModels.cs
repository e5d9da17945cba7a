using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventPlatform.Core.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// The answer of <c>GET /api/v1/events/{topic}/latest</c>: the most recent events of a topic,
/// newest first by the events' own <c>timestamp</c> (Property 12).
/// </summary>
/// <param name="Topic">The full topic name.</param>
/// <param name="Count">How many events <paramref name="Events"/> holds (at most the limit asked for).</param>
/// <param name="Events">The events, each as its canonical JSON plus <c>partition</c> and <c>offset</c>.</param>
public sealed record LatestEventsResponse(string Topic, int Count, IReadOnlyList<StoredEvent> Events);

/// <summary>
/// An event as Kafka holds it, with its position. Serializes as the event's canonical JSON
/// (<c>event_id</c>, <c>timestamp</c>, <c>event_type</c>, <c>user_id</c>, <c>device_id</c>,
/// <c>payload</c>, <c>metadata</c>) plus <c>partition</c> and <c>offset</c>.
/// </summary>
[JsonConverter(typeof(StoredEventJsonConverter))]
public sealed class StoredEvent(IngestEvent e, int partition, long offset)
{
    public IngestEvent Event { get; } = e;

    public int Partition { get; } = partition;

    public long Offset { get; } = offset;
}

/// <summary>A partition and an offset in it.</summary>
public sealed record PartitionOffset(int Partition, long Offset);

/// <summary>
/// What a stream subscriber wants: every given field must equal the event's (exact, case-sensitive);
/// a field left null matches anything.
/// </summary>
public sealed record StreamFilter(string? EventType, string? UserId, string? DeviceId)
{
    public static StreamFilter None { get; } = new(null, null, null);

    [JsonIgnore]
    public bool IsEmpty => EventType is null && UserId is null && DeviceId is null;

    public bool Matches(IngestEvent e) =>
        (EventType is null || string.Equals(EventType, e.EventType, StringComparison.Ordinal))
        && (UserId is null || string.Equals(UserId, e.UserId, StringComparison.Ordinal))
        && (DeviceId is null || string.Equals(DeviceId, e.DeviceId, StringComparison.Ordinal));
}

/// <summary>
/// The first frame of <c>WS /api/v1/stream/{topic}</c>. Every event at or after
/// <paramref name="StartOffsets"/> (taken before this frame was sent) follows; none before.
/// </summary>
/// <param name="Type">"subscribed".</param>
/// <param name="Topic">The full topic name.</param>
/// <param name="StartOffsets">Per partition, the first offset this connection will be sent.</param>
/// <param name="Filters">The filters in force; absent when none.</param>
public sealed record StreamSubscribed(string Type, string Topic, IReadOnlyList<PartitionOffset> StartOffsets, StreamFilter? Filters)
{
    public const string FrameType = "subscribed";
}

/// <summary>
/// A WebSocket ingest acknowledgement: Kafka has the event (acks=all) at this position.
/// </summary>
/// <param name="Type">"ack".</param>
/// <param name="Index">The event's position in the message when the message was a JSON array; absent otherwise.</param>
/// <param name="Replayed">True when the idempotency key already had this answer, so nothing was written this time; absent otherwise.</param>
public sealed record IngestAck(string Type, string EventId, string Topic, int Partition, long Offset, int? Index, bool? Replayed)
{
    public const string FrameType = "ack";
}

/// <summary>
/// A WebSocket ingest refusal: the event was not published. The codes and details are those of
/// the POST route's <c>ErrorResponse</c>.
/// </summary>
/// <param name="Type">"error".</param>
/// <param name="EventId">The event's id when it could be read; null otherwise.</param>
/// <param name="Index">The event's position in the message when the message was a JSON array; absent otherwise.</param>
public sealed record IngestError(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? EventId,
    string ErrorCode,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonObject? Details,
    int? Index)
{
    public const string FrameType = "error";
}
