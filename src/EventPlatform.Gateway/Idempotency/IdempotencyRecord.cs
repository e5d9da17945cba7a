using System.Text.Json.Serialization;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>What a record of the idempotency topic says about its key.</summary>
public enum IdempotencyRecordType
{
    /// <summary>A request wants the key; the first live claim in the log wins.</summary>
    Claim,

    /// <summary>The winning request's event is in Kafka; here is where.</summary>
    Done,

    /// <summary>The winning request failed; the key is free again.</summary>
    Abort,
}

/// <summary>One record of the idempotency topic (value; the key is the scoped idempotency key).</summary>
/// <param name="Type">Claim, done or abort.</param>
/// <param name="ClaimId">Which request: done and abort refer to the claim they settle.</param>
/// <param name="Fingerprint">The request's topic, event id and a hash of the event (<see cref="EventFingerprint"/>): a reused key with another event is refused.</param>
/// <param name="AtMs">When it was written (Unix ms, the writer's clock); expiry is judged from these only, so every instance agrees.</param>
public sealed record IdempotencyRecord(
    IdempotencyRecordType Type,
    string ClaimId,
    string Fingerprint,
    long AtMs,
    string? Topic = null,
    int? Partition = null,
    long? Offset = null,
    DateTimeOffset? AcknowledgedAt = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IdempotencyRecord))]
internal sealed partial class IdempotencyJsonContext : JsonSerializerContext;
