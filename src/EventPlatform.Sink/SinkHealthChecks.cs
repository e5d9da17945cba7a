using EventPlatform.Hosting.Health;
using EventPlatform.Sink.Connect;
using EventPlatform.Sink.Destinations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Sink;

/// <summary>
/// Readiness of the warehouses: the embedded DuckDB file is opened (read-write) and queried, and
/// every connector's own warehouse (Snowflake) is asked <c>SELECT 1</c>. Cached for two seconds
/// (a Snowflake round trip is not free), bounded by two.
/// </summary>
public sealed class WarehouseHealthCheck(ConnectWorker worker, TimeProvider time) : CachedHealthCheck(time, cacheFor: TimeSpan.FromSeconds(2))
{
    /// <inheritdoc />
    protected override async Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken)
    {
        var destinations = new List<IWarehouseDestination> { worker.Destination };
        foreach (var name in worker.Names)
        {
            if (worker.Find(name) is { } runtime && worker.DestinationOf(runtime) is var own && !destinations.Contains(own))
            {
                destinations.Add(own);
            }
        }

        var down = new List<string>();
        foreach (var destination in destinations)
        {
            if (!await destination.IsAvailableAsync(cancellationToken).ConfigureAwait(false))
            {
                down.Add(destination.Name);
            }
        }

        var names = string.Join(", ", destinations.Select(d => d.Name));
        return down.Count == 0
            ? HealthCheckResult.Healthy($"{names} answer")
            : HealthCheckResult.Unhealthy($"the warehouse does not answer: {string.Join(", ", down)}");
    }
}

/// <summary>
/// Readiness of the connectors, as Kafka Connect's status shows them: unhealthy while a connector
/// or one of its tasks is FAILED (a task that failed on a setup problem included; the worker restarts
/// failed tasks with backoff, and readiness comes back when they run). Paused and stopped connectors
/// are what someone asked for, so they count as ready. Reads in-memory state only.
/// </summary>
public sealed class ConnectorsHealthCheck(ConnectWorker worker) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failed = new List<string>();
        var running = 0;
        foreach (var name in worker.Names)
        {
            if (worker.Find(name) is not { } runtime)
            {
                continue;
            }

            if (runtime.State == ConnectStates.Failed)
            {
                failed.Add($"{name}: FAILED ({runtime.Failure})");
                continue;
            }

            foreach (var task in runtime.TaskStatuses())
            {
                if (task.State == ConnectStates.Failed)
                {
                    failed.Add($"{name} task {task.Id}: FAILED ({FirstLine(task.Trace)})");
                }
                else
                {
                    running++;
                }
            }
        }

        return Task.FromResult(failed.Count == 0
            ? HealthCheckResult.Healthy($"{worker.Names.Count} connectors, {running} tasks not failed")
            : HealthCheckResult.Unhealthy(string.Join("; ", failed)));
    }

    private static string? FirstLine(string? trace) => trace?.Split('\n', 2)[0].Trim();
}
