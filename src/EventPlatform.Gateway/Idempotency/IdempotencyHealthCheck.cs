using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// Readiness of idempotent publishing: the gateway has read its idempotency topic to the end and
/// can still read it. Without it a retry could be published twice, so the gateway is not ready.
/// In memory only: nothing is asked of Kafka (the <c>kafka</c> check does that).
/// </summary>
public sealed class IdempotencyHealthCheck(IdempotencyStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.ReadinessProblem is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy("idempotency keys read to the topic's end and followed"));
}
