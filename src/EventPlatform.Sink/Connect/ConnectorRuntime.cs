using EventPlatform.Sink.Configuration;
using EventPlatform.Sink.Worker;

namespace EventPlatform.Sink.Connect;

/// <summary>Kafka Connect's states, as its status API spells them.</summary>
public static class ConnectStates
{
    public const string Running = "RUNNING";
    public const string Paused = "PAUSED";
    public const string Stopped = "STOPPED";
    public const string Failed = "FAILED";
    public const string Unassigned = "UNASSIGNED";
    public const string Restarting = "RESTARTING";
}

/// <summary>One task's state for the status API.</summary>
public sealed record TaskStatus(int Id, string State, string? Trace);

/// <summary>
/// One connector in this worker: its config, target state and running <see cref="SinkTask"/>s.
/// Changed only by <see cref="ConnectWorker"/> under its lock; read from any thread.
/// </summary>
public sealed class ConnectorRuntime(SinkConnectorConfig config, ConnectorTargetState target)
{
    private volatile SinkTask[] _tasks = [];

    public string Name => Config.Name;

    public SinkConnectorConfig Config { get; internal set; } = config;

    public ConnectorTargetState Target { get; internal set; } = target;

    /// <summary>The connector's own warehouse (Snowflake) when it has one; null: the worker's embedded one.</summary>
    internal Destinations.IWarehouseDestination? OwnDestination { get; set; }

    /// <summary>Why the connector itself could not start (its tasks then do not exist).</summary>
    public string? Failure { get; internal set; }

    /// <summary>Tasks that failed and are due to be started again by the worker (item 8: failed tasks restart themselves with backoff).</summary>
    internal Dictionary<int, (int Failures, DateTimeOffset? RestartAt)> PendingRestarts { get; } = [];

    /// <summary>The running tasks (a snapshot).</summary>
    public IReadOnlyList<SinkTask> Tasks => _tasks;

    internal void SetTasks(SinkTask[] tasks) => _tasks = tasks;

    internal void ReplaceTask(int index, SinkTask task)
    {
        var copy = (SinkTask[])_tasks.Clone();
        copy[index] = task;
        _tasks = copy;
    }

    /// <summary>The connector's state as Kafka Connect reports it.</summary>
    public string State => Failure is not null ? ConnectStates.Failed : Target switch
    {
        ConnectorTargetState.Paused => ConnectStates.Paused,
        ConnectorTargetState.Stopped => ConnectStates.Stopped,
        _ => ConnectStates.Running,
    };

    /// <summary>Each task's state: FAILED with its trace, PAUSED, RUNNING.</summary>
    public IReadOnlyList<TaskStatus> TaskStatuses() =>
    [
        .. Tasks.Select((task, i) => task.Failure is { } failure
            ? new TaskStatus(i, ConnectStates.Failed, failure.ToString())
            : task.SetupProblem is { } setup
                ? new TaskStatus(i, ConnectStates.Failed, "Setup error (retried slowly; no record goes to the DLQ): " + setup)
                : new TaskStatus(i, task.IsPaused ? ConnectStates.Paused : ConnectStates.Running, null)),
    ];
}
