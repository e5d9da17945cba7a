using Confluent.Kafka;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Embedded;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventPlatform.Hosting.Tests;

/// <summary>The Kafka probe as a readiness check: healthy while the cluster answers, unhealthy when it does not.</summary>
public sealed class KafkaHealthCheckTests
{
    private static async Task<HealthCheckResult> CheckAsync(string bootstrapServers)
    {
        var options = new KafkaOptions { BootstrapServers = bootstrapServers };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfig.ForProducer(options, "health-test", bootstrapServers))
            .SetLogHandler((_, _) => { })
            .Build();
        using var probe = new KafkaHealthProbe(producer, Options.Create(options), TimeProvider.System);
        return await new KafkaHealthCheck(probe).CheckHealthAsync(new HealthCheckContext());
    }

    [Fact]
    public async Task A_cluster_that_answers_is_healthy()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });

        var result = await CheckAsync(cluster.BootstrapServers);

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task A_cluster_that_does_not_answer_is_unhealthy()
    {
        // A cluster that is gone: its brokers' ports no longer answer.
        var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        var bootstrap = cluster.BootstrapServers;
        cluster.Dispose();

        var result = await CheckAsync(bootstrap);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
    }
}
