using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Embedded;
using Xunit;

namespace EventPlatform.Testing;

/// <summary>
/// One embedded broker (3 brokers, random ports, the seed's topics) for a test collection or
/// class. Group joins are not delayed, so consumer tests do not wait Kafka's 3 s.
/// </summary>
public sealed class EmbeddedKafkaFixture : IAsyncLifetime
{
    public EmbeddedKafkaCluster Cluster { get; private set; } = null!;

    public string BootstrapServers => Cluster.BootstrapServers;

    public TopicPlan Plan { get; } = TopicPlan.Seed;

    public Task InitializeAsync()
    {
        Cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions
        {
            BootstrapPort = null,
            GroupInitialRebalanceDelay = TimeSpan.Zero,
        });
        foreach (var topic in Plan.Topics)
        {
            Cluster.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
        }

        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Cluster.Dispose();
        return Task.CompletedTask;
    }
}
