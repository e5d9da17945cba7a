using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Kafka;

/// <summary>
/// Applies the topic plan when a service starts, before it takes traffic: missing topics are
/// created, existing ones are left as they are. A service that cannot reach Kafka to do this
/// fails to start with the reason, rather than failing on its first request.
/// </summary>
internal sealed partial class TopicPlanProvisioning(ITopicProvisioner provisioner, TopicPlan plan, ILogger<TopicPlanProvisioning> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (topic, outcome) in await provisioner.ApplyAsync(plan, cancellationToken).ConfigureAwait(false))
        {
            LogTopic(logger, topic.Name, topic.Partitions, topic.ReplicationFactor, outcome);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Topic {Topic} ({Partitions} partitions, replication factor {ReplicationFactor}): {Outcome}")]
    private static partial void LogTopic(ILogger logger, string topic, int partitions, short replicationFactor, TopicProvisionOutcome outcome);
}
