using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Monitoring;

/// <summary>Ready once a poll has read the cluster, and as long as the last poll did.</summary>
public sealed class ExporterReadinessCheck(KafkaExporterService exporter) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(exporter.LastPoll switch
        {
            null => HealthCheckResult.Unhealthy("The cluster has not been read yet."),
            { Succeeded: true } => HealthCheckResult.Healthy(),
            { Error: var error } => HealthCheckResult.Unhealthy($"Kafka does not answer: {error}"),
        });
}
