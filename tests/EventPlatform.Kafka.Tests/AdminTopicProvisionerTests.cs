using System.Reflection;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Kafka.Topics;
using EventPlatform.Testing;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Tests;

/// <summary>
/// Making internal topics exist on clusters that allow different things: CreateTopics with
/// configs, a race with another instance, refused configs, no CreateTopics, no right to create.
/// </summary>
public sealed class AdminTopicProvisionerTests
{
    private static readonly TopicSpec Compacted = new("_schemas", 1, 3, TopicRole.Internal) { Configs = TopicConfigs.Compacted() };

    private static (AdminTopicProvisioner Provisioner, FakeCluster Cluster, CapturingLogger<AdminTopicProvisioner> Log) Provisioner(TimeSpan? readyTimeout = null)
    {
        var cluster = new FakeCluster();
        var log = new CapturingLogger<AdminTopicProvisioner>();
        var provisioner = new AdminTopicProvisioner(cluster.Admin(autoCreates: false), cluster.Admin(autoCreates: true),
            TimeSpan.FromSeconds(1), readyTimeout ?? TimeSpan.FromSeconds(5), log);
        return (provisioner, cluster, log);
    }

    [Fact]
    public async Task A_missing_topic_is_created_with_its_partitions_replication_and_configs()
    {
        var (provisioner, cluster, log) = Provisioner();

        var outcome = await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None);

        Assert.Equal(TopicProvisionOutcome.Created, outcome);
        var request = Assert.Single(cluster.CreateRequests);
        Assert.Equal(("_schemas", 1, (short)3), (request.Name, request.NumPartitions, request.ReplicationFactor));
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, request.Configs);
        Assert.Contains(log.Entries, e => e.Id.Id == 1101 && e.Text.Contains("cleanup.policy=compact", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_idempotency_topic_is_retained_for_its_window_plus_the_margin()
    {
        var (provisioner, cluster, _) = Provisioner();
        var spec = new TopicSpec("_eventplatform.idempotency", 12, 3, TopicRole.Internal) { Configs = TopicConfigs.RetainedFor(TimeSpan.FromHours(25)) };

        await provisioner.EnsureTopicAsync(spec, CancellationToken.None);

        var request = Assert.Single(cluster.CreateRequests);
        Assert.Equal(12, request.NumPartitions);
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "delete", ["retention.ms"] = "90000000" }, request.Configs);
    }

    [Fact]
    public async Task An_existing_topic_is_left_as_it_is()
    {
        var (provisioner, cluster, log) = Provisioner();
        cluster.Add("_schemas", 4);

        Assert.Equal(TopicProvisionOutcome.AlreadyExisted, await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
        Assert.Empty(cluster.CreateRequests);
        Assert.Contains(log.Entries, e => e.Id.Id == 1105 && e.Text.Contains("4 partitions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_instance_creating_it_first_is_success()
    {
        var (provisioner, cluster, _) = Provisioner();
        cluster.OnCreate = spec =>
        {
            cluster.Add(spec.Name, spec.NumPartitions);
            return ErrorCode.TopicAlreadyExists;
        };

        Assert.Equal(TopicProvisionOutcome.AlreadyExisted, await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
    }

    [Theory]
    [InlineData(ErrorCode.InvalidConfig)]
    [InlineData(ErrorCode.PolicyViolation)]
    public async Task A_cluster_that_refuses_the_configs_gets_the_topic_without_them(ErrorCode refusal)
    {
        var (provisioner, cluster, log) = Provisioner();
        cluster.OnCreate = spec => spec.Configs is { Count: > 0 } ? refusal : ErrorCode.NoError;

        Assert.Equal(TopicProvisionOutcome.Created, await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
        Assert.Equal(2, cluster.CreateRequests.Count);
        Assert.Null(cluster.CreateRequests[1].Configs);
        Assert.Contains(log.Entries, e => e.Id.Id == 1103 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task A_cluster_without_CreateTopics_gets_the_topic_by_auto_creation()
    {
        var (provisioner, cluster, log) = Provisioner();
        cluster.OnCreate = _ => ErrorCode.Local_UnsupportedFeature;

        Assert.Equal(TopicProvisionOutcome.Created, await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
        Assert.Equal(4, cluster.Partitions("_schemas"));
        Assert.Contains(log.Entries, e => e.Id.Id == 1102 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task A_client_that_may_not_create_topics_waits_for_an_operator_and_then_says_what_to_create()
    {
        var (provisioner, cluster, log) = Provisioner(readyTimeout: TimeSpan.FromMilliseconds(300));
        cluster.OnCreate = _ => ErrorCode.TopicAuthorizationFailed;

        var failure = await Assert.ThrowsAsync<TopicProvisioningException>(() => provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));

        Assert.Equal("_schemas", failure.Topic);
        Assert.Contains("may not create topics (TopicAuthorizationFailed)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("1 partitions, replication factor 3, configs: cleanup.policy=compact", failure.Message, StringComparison.Ordinal);
        Assert.Contains(log.Entries, e => e.Id.Id == 1104);
    }

    [Fact]
    public async Task A_client_that_may_not_create_topics_uses_the_topic_once_an_operator_created_it()
    {
        var (provisioner, cluster, _) = Provisioner();
        cluster.OnCreate = spec =>
        {
            // The operator's topic appears while the provisioner waits.
            _ = Task.Run(async () =>
            {
                await Task.Yield();
                cluster.Add(spec.Name, 1);
            });
            return ErrorCode.ClusterAuthorizationFailed;
        };

        Assert.Equal(TopicProvisionOutcome.AlreadyExisted, await provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
    }

    [Fact]
    public async Task Other_refusals_fail_with_the_reason_and_a_hint()
    {
        var (provisioner, cluster, _) = Provisioner();
        cluster.OnCreate = _ => ErrorCode.InvalidReplicationFactor;

        var failure = await Assert.ThrowsAsync<TopicProvisioningException>(() => provisioner.EnsureTopicAsync(Compacted, CancellationToken.None));
        Assert.Contains("InvalidReplicationFactor", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:ReplicationFactor", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_the_embedded_broker_reached_over_the_network_topics_are_auto_created_and_two_instances_may_race()
    {
        // No mock API here: the provisioner sees a cluster without CreateTopics, as another process does.
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
        var config = new AdminClientConfig { BootstrapServers = cluster.BootstrapServers };
        var firstLog = new CapturingLogger<AdminTopicProvisioner>();
        var secondLog = new CapturingLogger<AdminTopicProvisioner>();
        using var first = AdminTopicProvisioner.Create(config, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), firstLog);
        using var second = AdminTopicProvisioner.Create(config, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), secondLog);

        await Task.WhenAll(first.EnsureTopicAsync(Compacted, CancellationToken.None), second.EnsureTopicAsync(Compacted, CancellationToken.None));

        // Both started without error; at least one met the missing CreateTopics and fell back to auto-creation.
        Assert.Contains(firstLog.Entries.Concat(secondLog.Entries), e => e.Id.Id == 1102);
        using var admin = new AdminClientBuilder(config).Build();
        var topic = admin.GetMetadata(TimeSpan.FromSeconds(5)).Topics.Single(t => t.Topic == "_schemas");
        Assert.Equal(4, topic.Partitions.Count); // the mock's default for auto-created topics
        Assert.All(topic.Partitions, p => Assert.True(p.Leader >= 0));
    }

    /// <summary>Just enough of a cluster behind <see cref="IAdminClient"/>: metadata and CreateTopics.</summary>
    private sealed class FakeCluster
    {
        private readonly Dictionary<string, int> _topics = [];

        public List<TopicSpecification> CreateRequests { get; } = [];

        /// <summary>What CreateTopics answers; by default the topic is created.</summary>
        public Func<TopicSpecification, ErrorCode> OnCreate { get; set; } = _ => ErrorCode.NoError;

        public void Add(string topic, int partitions)
        {
            lock (_topics)
            {
                _topics.TryAdd(topic, partitions);
            }
        }

        public int? Partitions(string topic)
        {
            lock (_topics)
            {
                return _topics.TryGetValue(topic, out var p) ? p : null;
            }
        }

        public IAdminClient Admin(bool autoCreates)
        {
            var admin = DispatchProxy.Create<IAdminClient, FakeAdmin>();
            ((FakeAdmin)(object)admin).Init(this, autoCreates);
            return admin;
        }

        public Metadata Metadata(string topic, bool autoCreate)
        {
            if (autoCreate)
            {
                Add(topic, 4);
            }

            var partitions = Partitions(topic);
            var metadata = partitions is { } count
                ? new TopicMetadata(topic, [.. Enumerable.Range(0, count).Select(p => new PartitionMetadata(p, 1, [1], [1], new Error(ErrorCode.NoError)))], new Error(ErrorCode.NoError))
                : new TopicMetadata(topic, [], new Error(ErrorCode.UnknownTopicOrPart));
            return new Metadata([new BrokerMetadata(1, "localhost", 9092)], [metadata], 1, "fake");
        }

        public Task CreateAsync(IEnumerable<TopicSpecification> topics)
        {
            var spec = topics.Single();
            CreateRequests.Add(spec);
            var code = OnCreate(spec);
            if (code == ErrorCode.NoError)
            {
                Add(spec.Name, spec.NumPartitions);
                return Task.CompletedTask;
            }

            if (code == ErrorCode.Local_UnsupportedFeature)
            {
                return Task.FromException(new KafkaException(new Error(code, "Topic Admin API (KIP-4) not supported by broker")));
            }

            return Task.FromException(new CreateTopicsException([new CreateTopicReport { Topic = spec.Name, Error = new Error(code) }]));
        }
    }

    /// <summary>The <see cref="IAdminClient"/> of a <see cref="FakeCluster"/>; any other call fails the test.</summary>
    public class FakeAdmin : DispatchProxy
    {
        private FakeCluster _cluster = null!;
        private bool _autoCreates;

        internal void Init(object cluster, bool autoCreates)
        {
            _cluster = (FakeCluster)cluster;
            _autoCreates = autoCreates;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IAdminClient.GetMetadata) when args is [string topic, TimeSpan] => _cluster.Metadata(topic, _autoCreates),
            nameof(IAdminClient.CreateTopicsAsync) => _cluster.CreateAsync((IEnumerable<TopicSpecification>)args![0]!),
            nameof(IDisposable.Dispose) => null,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
