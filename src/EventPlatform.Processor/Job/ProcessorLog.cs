using Microsoft.Extensions.Logging;

namespace EventPlatform.Processor.Job;

/// <summary>The default job's log messages about single records (ids 4111-4119): each names the record's source position and, when known, its event id.</summary>
internal static partial class ProcessorLog
{
    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Record {Topic}[{Partition}]@{Offset} (event {EventId}) sent to the DLQ: {ErrorType}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string eventId, string errorType, string reason);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Processing record {Topic}[{Partition}]@{Offset} (event {EventId}) failed on attempt {Attempt}; retrying in {Delay}")]
    public static partial void ProcessingRetry(ILogger logger, Exception exception, string topic, int partition, long offset, string eventId, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Error, Message = "Record {Topic}[{Partition}]@{Offset} (event {EventId}) sent to the DLQ after {Retries} retries: processing kept failing")]
    public static partial void ProcessingFailed(ILogger logger, Exception exception, string topic, int partition, long offset, string eventId, int retries);

    // Late events can come in floods (a producer replaying old data): Debug, so they cost a level check by default.
    // The window's input keeps the reading, not the event id (it crosses the repartition topic): the source position names the event.
    [LoggerMessage(EventId = 4114, Level = LogLevel.Debug, Message = "Late event at {Topic}[{Partition}]@{Offset} sent to the DLQ: its window {Window} had closed ({Reason})")]
    public static partial void LateEvent(ILogger logger, string topic, int partition, long offset, string window, string reason);
}
