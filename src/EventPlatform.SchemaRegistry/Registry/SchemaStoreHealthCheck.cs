using EventPlatform.Hosting.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// Readiness of the registry's Kafka store: the topic's end is asked of the cluster and this
/// instance must have read up to it (so it answers from the state every other instance sees). Cached
/// a second, bounded by two: while Kafka is away, readiness is false within a few seconds.
/// </summary>
public sealed class SchemaStoreHealthCheck(KafkaSchemaLog log, IOptions<RegistryOptions> options, TimeProvider time) : CachedHealthCheck(time)
{
    /// <inheritdoc />
    protected override async Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken)
    {
        var topic = options.Value.Topic;
        var problem = await log.CheckCaughtUpAsync(Timeout, cancellationToken).ConfigureAwait(false);
        return problem is null
            ? HealthCheckResult.Healthy($"store {topic} read to its end")
            : HealthCheckResult.Unhealthy($"store {topic}: {problem}");
    }
}
