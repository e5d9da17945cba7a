using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Publishing;
using Microsoft.AspNetCore.Http;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>Every failure idempotent publishing reports, and how it reads one: the one place that knows <see cref="PublishFailure"/>'s shape.</summary>
internal static class IdempotencyFailures
{
    public const int MaxKeyLength = 255;

    public static PublishFailure KeyTooLong() =>
        new(FailureKind.Invalid, ErrorCodes.InvalidIdempotencyKey, $"The Idempotency-Key header may be at most {MaxKeyLength} characters long.");

    /// <summary>Without a claim in the log there is no guarantee against a second copy: nothing was published.</summary>
    public static PublishFailure ClaimNotWritten(Confluent.Kafka.Error error) =>
        new(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
            "Kafka did not accept the idempotency claim; the event was not published. Retry later.",
            new JsonObject { ["stage"] = "idempotency_claim", ["kafka_error"] = error.Code.ToString(), ["reason"] = error.Reason });

    /// <summary>The idempotency topic can no longer be read (the gateway is stopping): nobody can tell who holds the key.</summary>
    public static PublishFailure LogUnreadable(Confluent.Kafka.Error error) =>
        new(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
            "The gateway can no longer read its idempotency topic and is stopping; the event was not published. Retry later.",
            new JsonObject { ["stage"] = "idempotency_read", ["kafka_error"] = error.Code.ToString(), ["reason"] = error.Reason });

    /// <summary>A claim was left without a result and the event topic could not be read to settle it: the key stays held.</summary>
    public static PublishFailure ResolutionFailed(Confluent.Kafka.Error error) =>
        new(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
            "An earlier request with this idempotency key may have been published, and Kafka could not be read to find out. Retry later.",
            new JsonObject { ["stage"] = "idempotency_resolve", ["kafka_error"] = error.Code.ToString(), ["reason"] = error.Reason });

    public static PublishFailure InProgress() =>
        new(FailureKind.InProgress, ErrorCodes.IdempotencyInProgress, "A request with the same idempotency key is still in progress; retry later.");

    public static PublishFailure KeyReused(IdempotentResult first) =>
        new(FailureKind.KeyReused, ErrorCodes.IdempotencyKeyReused, "This idempotency key was already used for a different event.",
            new JsonObject { ["first_topic"] = first.Topic, ["first_partition"] = first.Partition, ["first_offset"] = first.Offset });

    /// <summary>
    /// Whether a failed publish may still have written the event: then its key must stay held
    /// (in doubt) rather than be freed. Only a failure that says "not persisted" frees a key.
    /// </summary>
    public static bool MayHaveWritten(PublishFailure failure) =>
        failure.Kind == FailureKind.Unavailable
        && failure.ErrorCode == ErrorCodes.KafkaUnavailable
        && failure.Details?["possibly_persisted"]?.GetValue<bool>() != false;
}
