using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Hosting.Kafka;

/// <summary>
/// <see cref="KafkaHealthProbe"/> as a health check, for hosts that report readiness through
/// health checks (the worker host's <c>/health/ready</c>): unhealthy while the cluster does not answer.
/// </summary>
public sealed class KafkaHealthCheck(KafkaHealthProbe probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = await probe.CheckAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return health.Connected
            ? HealthCheckResult.Healthy($"{health.Brokers} brokers")
            : HealthCheckResult.Unhealthy($"Kafka does not answer: {health.Error}");
    }
}
