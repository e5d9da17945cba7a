using Microsoft.Extensions.Logging;

namespace EventPlatform.Streaming.Runtime;

/// <summary>The runtime's log messages; event ids 4001-4099 belong to the stream processor.</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Job {Job} assigned {Partitions}; restored from checkpoint of {CreatedAt} at {Offsets}")]
    public static partial void Restored(ILogger logger, string job, string partitions, DateTimeOffset createdAt, string offsets);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Job {Job} assigned {Partitions}; no checkpoint, starting fresh")]
    public static partial void StartingFresh(ILogger logger, string job, string partitions);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Job {Job}: checkpoint set aside, not applied: {Reason}")]
    public static partial void CheckpointSetAside(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Job {Job}: checkpoint {Count} written at {Offsets}")]
    public static partial void CheckpointWritten(ILogger logger, string job, int count, string offsets);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Job {Job}: committing offsets to Kafka failed ({Reason}); lag reports lag behind, restore is unaffected")]
    public static partial void CommitFailed(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Critical, Message = "Job {Job} stopped on a failure")]
    public static partial void Failed(ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Job {Job}: the cluster reports no id; checkpoints are tagged with the configured identity {Identity}")]
    public static partial void ConfiguredClusterIdentity(ILogger logger, string job, string identity);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Job {Job}: partitions {Partitions} lost; state dropped without a checkpoint, the next assignment restores the last one")]
    public static partial void PartitionsLost(ILogger logger, string job, string partitions);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Job {Job}: the newest checkpoint file was unreadable, using the previous one: {Problem}")]
    public static partial void CheckpointUnreadable(ILogger logger, string job, string problem);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Trace, Message = "{Client}: {Facility} {Message}")]
    public static partial void Client(ILogger logger, string client, string facility, string message);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Job {Job} runs scaled out: keyed windows behind repartition topic {Topic} with {Partitions} partitions")]
    public static partial void ScaledOut(ILogger logger, string job, string topic, int partitions);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Job {Job} assigned; restored from checkpoints: {Restored}; starting fresh: {Fresh}")]
    public static partial void AssignedScaled(ILogger logger, string job, string restored, string fresh);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information, Message = "Job {Job}: exactly once, outputs and offsets commit in Kafka transactions of transactional.id {TransactionalId}")]
    public static partial void Transactional(ILogger logger, string job, string transactionalId);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Warning, Message = "Job {Job}: the open Kafka transaction was aborted; its outputs are computed again from the last checkpoint")]
    public static partial void TransactionAborted(ILogger logger, string job);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Warning, Message = "Job {Job}: aborting the Kafka transaction failed ({Reason}); the broker aborts it at its timeout or when the id is initialised again")]
    public static partial void AbortFailed(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "Job {Job}: committing the Kafka transaction failed on attempt {Attempt} ({Reason}); trying again")]
    public static partial void CommitRetried(ILogger logger, string job, int attempt, string reason);

    [LoggerMessage(EventId = 4017, Level = LogLevel.Error, Message = "Job {Job}: {Topic}[{Partition}] holds a record at offset {Offset} that this version cannot read (a later format, or a malformed or forged record naming no source of the job); such records are skipped, not applied. Stop the newer version's instances or reset the topic")]
    public static partial void UnknownRepartitionFormat(ILogger logger, string job, string topic, int partition, long offset);

    [LoggerMessage(EventId = 4019, Level = LogLevel.Information, Message = "Job {Job} owns every partition and has read all its repartition topic holds: keyed elements now go to the window tasks in memory, not through {Topic}")]
    public static partial void WentLocal(ILogger logger, string job, string topic);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Job {Job}: the window tasks did not reach the end of {Topic} within {Seconds} s of pausing the sources; routing through it goes on, the next try in {Retry} s")]
    public static partial void LocalDrainTimedOut(ILogger logger, string job, string topic, double seconds, double retry);

    [LoggerMessage(EventId = 4018, Level = LogLevel.Warning, Message = "{Client}: {Facility} {Message} (client log level {Level})")]
    public static partial void ClientProblem(ILogger logger, string client, string facility, string message, int level);
}
