using Microsoft.Extensions.Logging;

namespace EventPlatform.Sink;

/// <summary>The sink's log messages; event ids 5100-5199 are the sink's.</summary>
internal static partial class SinkLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Sink task {Task} started: topics {Topics}, group {Group}, cluster {ClusterId}, writing to {Destination}")]
    public static partial void TaskStarted(ILogger logger, int task, string topics, string group, string clusterId, string destination);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "The Kafka cluster reported no id within {Timeout}; offsets are tagged '{ClusterId}'")]
    public static partial void NoClusterId(ILogger logger, TimeSpan timeout, string clusterId);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "The warehouse holds offsets of other Kafka clusters ({Others}); they are not applied to cluster {ClusterId}")]
    public static partial void ForeignOffsets(ILogger logger, string others, string clusterId);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Assigned {Topic}[{Partition}]: resuming at {Offset} ({Origin})")]
    public static partial void Assigned(ILogger logger, string topic, int partition, string offset, string origin);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Writing {Rows} rows of {Topic}[{Partition}] failed (attempt {Attempt}, {Kind}); next attempt in {Delay}")]
    public static partial void WriteFailed(ILogger logger, Exception e, int rows, string topic, int partition, int attempt, string kind, TimeSpan delay);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Error, Message = "The warehouse stayed unavailable through {Attempts} attempts: {Topic}[{Partition}] is paused and tried again every {Delay} (no record goes to the DLQ for an outage)")]
    public static partial void PartitionPaused(ILogger logger, int attempts, string topic, int partition, TimeSpan delay);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "{Topic}[{Partition}] resumed after {Attempts} attempts")]
    public static partial void PartitionResumed(ILogger logger, string topic, int partition, int attempts);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Record {Topic}[{Partition}]@{Offset} (event {EventId}) sent to the DLQ: {ErrorType}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string eventId, string errorType, string reason);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "The schema registry is unavailable: {Topic}[{Partition}] waits {Delay} and reads from {Offset} again")]
    public static partial void RegistryUnavailable(ILogger logger, Exception e, string topic, int partition, TimeSpan delay, long offset);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Warning, Message = "Committing offsets to Kafka failed (they are safe in the warehouse; only lag reporting is late)")]
    public static partial void KafkaCommitFailed(ILogger logger, Exception e);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Reading the warehouse's offsets failed; {Topic}[{Partition}] resumes from the group's committed offset (never ahead of the warehouse)")]
    public static partial void OffsetsUnreadable(ILogger logger, Exception e, string topic, int partition);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Warning, Message = "{Topic}[{Partition}] was revoked with {Rows} rows unwritten ({Reason}); its next owner reads them again from the warehouse's offset")]
    public static partial void RevokedUnwritten(ILogger logger, Exception? e, string topic, int partition, int rows, string reason);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Critical, Message = "Sink task {Task} failed")]
    public static partial void TaskFailed(ILogger logger, Exception e, int task);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Information, Message = "Connector '{Name}': topics {Topics}, buffer.count.records={Count}, buffer.size.bytes={Bytes}, buffer.flush.time={FlushTime}, tasks.max={Tasks}; warehouse {Destination}")]
    public static partial void ConnectorConfigured(ILogger logger, string name, string topics, int count, int bytes, TimeSpan flushTime, int tasks, string destination);

    [LoggerMessage(EventId = 5114, Level = LogLevel.Error, Message = "A stored connector cannot be used: {Problem}")]
    public static partial void StoredConnectorUnreadable(ILogger logger, string problem);

    [LoggerMessage(EventId = 5115, Level = LogLevel.Warning, Message = "Task {Task} of connector '{Connector}' failed; it starts again in {Delay}")]
    public static partial void TaskRestartScheduled(ILogger logger, Exception e, string connector, int task, TimeSpan delay);

    [LoggerMessage(EventId = 5116, Level = LogLevel.Warning, Message = "Connect API request refused: {Method} {Path}: {Reason}")]
    public static partial void ConnectRequestRefused(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 5117, Level = LogLevel.Error, Message = "Connect API request failed: {Method} {Path}")]
    public static partial void ConnectRequestFailed(ILogger logger, Exception e, string method, string path);

    [LoggerMessage(EventId = 5118, Level = LogLevel.Error, Message = "The warehouse's setup is wrong (no record is at fault, none goes to the DLQ): {Topic}[{Partition}] tries again in {Delay}")]
    public static partial void SetupError(ILogger logger, Exception e, string topic, int partition, TimeSpan delay);

    [LoggerMessage(EventId = 5119, Level = LogLevel.Information, Message = "Connector '{Connector}' writes to Snowflake (SQL API v2, key-pair JWT; public key fingerprint {Fingerprint})")]
    public static partial void SnowflakeConfigured(ILogger logger, string connector, string fingerprint);

    [LoggerMessage(EventId = 5151, Level = LogLevel.Information, Message = "Connector configs are kept in the {Store} ({Connectors} connectors)")]
    public static partial void ConnectorStoreOpened(ILogger logger, string store, int connectors);

    [LoggerMessage(EventId = 5152, Level = LogLevel.Information, Message = "Connector '{Connector}' {Change} here as its stored config says (a change made through this or another worker)")]
    public static partial void ConnectorReconciled(ILogger logger, string connector, string change);

    [LoggerMessage(EventId = 5153, Level = LogLevel.Error, Message = "Connector '{Connector}' could not be brought in line with its stored config")]
    public static partial void ReconcileFailed(ILogger logger, Exception e, string connector);
}
