using System.Text.Json.Nodes;

namespace EventPlatform.Gateway.Publishing;

/// <summary>Why an event was not accepted, as the API will report it.</summary>
public sealed record PublishFailure(int StatusCode, string ErrorCode, string Message, JsonObject? Details = null);

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
