using EventPlatform.Core.DeadLetter;

namespace EventPlatform.Processor.Input;

/// <summary>Why one consumed record was filtered out, with a message a person reviewing the DLQ can act on.</summary>
public sealed record Rejection(RejectionReason Reason, string Message)
{
    /// <summary>The DLQ <c>error_type</c>.</summary>
    public string ErrorType => RejectionErrorTypes.Of(Reason);

    /// <summary>
    /// The seed's <c>DLQMessage</c> for <paramref name="record"/>: its value as the original message,
    /// its topic, partition and offset. A rejection is final (retrying cannot make bad bytes good),
    /// so <c>retry_count</c> is 0 and both attempt times are <paramref name="attemptTime"/>.
    /// </summary>
    public DlqMessage ToDlqMessage(ConsumedRecord record, DateTimeOffset attemptTime) =>
        ToDlqMessage(record, retryCount: 0, attemptTime, attemptTime);

    /// <summary>The seed's <c>DLQMessage</c> for <paramref name="record"/> after <paramref name="retryCount"/> retries between the two times.</summary>
    public DlqMessage ToDlqMessage(ConsumedRecord record, int retryCount, DateTimeOffset firstAttemptTime, DateTimeOffset lastAttemptTime)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentOutOfRangeException.ThrowIfNegative(retryCount);
        return new DlqMessage(
            record.Value ?? [],
            ErrorType,
            Message,
            retryCount,
            firstAttemptTime,
            lastAttemptTime,
            record.Topic,
            record.Partition,
            record.Offset);
    }
}
