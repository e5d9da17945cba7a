using System.Text.Json.Nodes;

namespace EventPlatform.Gateway.Publishing;

/// <summary>
/// What kind of failure a publish met, whatever the transport. Each entry point chooses its own
/// answer for a kind (an HTTP status, a WebSocket error frame) only where the request came in.
/// </summary>
public enum FailureKind
{
    /// <summary>The client's input is wrong (not JSON, not an event, refused by its schema, ...): sending it again will not help.</summary>
    Invalid,

    /// <summary>The path names a topic that takes no events.</summary>
    UnknownTopic,

    /// <summary>The input is larger than the gateway or Kafka takes.</summary>
    TooLarge,

    /// <summary>The idempotency key was already used for a different event.</summary>
    KeyReused,

    /// <summary>Another request with the same idempotency key is still being published.</summary>
    InProgress,

    /// <summary>The client is over its event allowance; <see cref="PublishFailure.RetryAfter"/> says when to come back.</summary>
    RateLimited,

    /// <summary>Kafka or the schema registry could not be used; nothing was published (unless the details say possibly).</summary>
    Unavailable,

    /// <summary>The gateway is stopping and took nothing.</summary>
    ShuttingDown,

    /// <summary>The gateway itself is at fault (a topic schema it cannot use).</summary>
    Internal,
}

/// <summary>Why an event was not accepted: a transport-neutral kind, the API's error code, a message and details.</summary>
public sealed record PublishFailure(FailureKind Kind, string ErrorCode, string Message, JsonObject? Details = null)
{
    /// <summary>For <see cref="FailureKind.RateLimited"/>: how long the client should wait.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// The result of handing one event to Kafka: where it was written (after the broker's
/// acknowledgement), or why it was not.
/// </summary>
public readonly record struct PublishOutcome(string Topic, int Partition, long Offset, DateTimeOffset AcknowledgedAt, PublishFailure? Failure)
{
    public bool Accepted => Failure is null;

    public static PublishOutcome Ok(string topic, int partition, long offset, DateTimeOffset at) => new(topic, partition, offset, at, null);

    public static PublishOutcome Failed(string topic, PublishFailure failure) => new(topic, -1, -1, default, failure);
}
