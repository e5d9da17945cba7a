using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Hosting.Health;

/// <summary>
/// Readiness of the schema registry a service reads schemas from (<see cref="SchemaRegistryProbe"/>,
/// cached a second): unhealthy, with its address, while it does not answer. Healthy with a note when
/// the service has no registry configured (then it needs none).
/// </summary>
public sealed class SchemaRegistryHealthCheck(SchemaRegistryProbe probe) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!probe.IsConfigured)
        {
            return HealthCheckResult.Healthy("no schema registry configured");
        }

        var ok = await probe.CheckAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return ok ? HealthCheckResult.Healthy($"{probe.Url} answers") : HealthCheckResult.Unhealthy($"the schema registry at {probe.Url} does not answer");
    }
}
