using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Processor.Service;

/// <summary>
/// What the processor's readiness reports: whether the output schema is registered and the job runs,
/// and if not, why. Thread-safe (one immutable snapshot swapped at a time).
/// </summary>
public sealed class ProcessorState : IHealthCheck
{
    private volatile Snapshot _current = new(false, null, null, "starting: the events.aggregated schema is not registered yet");

    /// <summary>The id the registry gave the events.aggregated schema, once registered.</summary>
    public int? SchemaId => _current.SchemaId;

    /// <summary>Whether the job is running.</summary>
    public bool IsRunning => _current.Running;

    internal void SchemaRegistered(int id) => _current = _current with { SchemaId = id, Problem = "starting the job" };

    internal void RegistryFailed(string problem) => _current = _current with { Running = false, Problem = "schema registry unreachable: " + problem };

    internal void JobRunning(string job) => _current = _current with { Running = true, Job = job, Problem = null };

    internal void JobFailed(string reason) => _current = _current with { Running = false, Problem = "the job stopped and is restarting: " + reason };

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = _current;
        return Task.FromResult(now.Running
            ? HealthCheckResult.Healthy($"job {now.Job} running; events.aggregated schema id {now.SchemaId}")
            : HealthCheckResult.Unhealthy(now.Problem));
    }

    private sealed record Snapshot(bool Running, int? SchemaId, string? Job, string? Problem);
}
