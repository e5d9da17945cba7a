using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Embedded;

namespace EventPlatform.Kafka.Topics;

/// <summary>Creates topics on the embedded broker through the mock cluster's API (it has no CreateTopics).</summary>
public sealed class EmbeddedTopicProvisioner(EmbeddedKafkaCluster cluster) : ITopicProvisioner
{
    public Task<TopicProvisionOutcome> EnsureTopicAsync(TopicSpec topic, CancellationToken cancellationToken)
    {
        var created = cluster.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
        return Task.FromResult(created ? TopicProvisionOutcome.Created : TopicProvisionOutcome.AlreadyExisted);
    }
}
