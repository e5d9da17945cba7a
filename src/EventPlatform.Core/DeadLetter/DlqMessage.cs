namespace EventPlatform.Core.DeadLetter;

/// <summary>
/// The seed's <c>DLQMessage</c>: a message that failed processing after every retry, with where
/// it came from, so that it can be inspected and replayed once the cause is fixed.
/// </summary>
public sealed record DlqMessage(
    byte[] OriginalMessage,
    string ErrorType,
    string ErrorMessage,
    int RetryCount,
    DateTimeOffset FirstAttemptTime,
    DateTimeOffset LastAttemptTime,
    string SourceTopic,
    int SourcePartition,
    long SourceOffset);
