using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Embedded;
using EventPlatform.SchemaRegistry.Registry;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>The registry's topic as a cluster may hand it over: with too many partitions, or unreadable for good.</summary>
public sealed class StoreTopicTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public void The_store_topic_is_created_with_one_partition_and_compacted()
    {
        var spec = KafkaSchemaLog.TopicFor(new RegistryOptions(), new Kafka.Configuration.KafkaOptions { ReplicationFactor = 2 });

        Assert.Equal(("_schemas", 1, (short)2), (spec.Name, spec.Partitions, spec.ReplicationFactor));
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, spec.Configs);
    }

    [Fact]
    public async Task A_store_topic_with_several_partitions_is_used_as_one_log_in_partition_0()
    {
        // What a broker without CreateTopics auto-creates: its default partition count.
        _kafka.Cluster.CreateTopic("_schemas.wide", 4, 3);
        await using (var registry = await RegistryServer.StartAsync(_kafka.Cluster, "_schemas.wide"))
        {
            foreach (var i in Enumerable.Range(0, 5))
            {
                Assert.Equal(200, (await PostAsync(registry.Client, $"subjects/wide-{i}/versions", AvroBody(TestSchemas.V1))).Status);
            }
        }

        var records = await KafkaReader.ReadAllAsync(_kafka.BootstrapServers, "_schemas.wide", TimeSpan.FromSeconds(20));
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Equal(0, r.Partition.Value));

        // A restart reads it all back.
        await using var restarted = await RegistryServer.StartAsync(_kafka.Cluster, "_schemas.wide");
        Assert.Equal(200, (await GetAsync(restarted.Client, "subjects/wide-4/versions/1")).Status);
    }

    [Fact]
    public async Task A_store_that_can_no_longer_be_read_stops_the_registry_with_a_non_zero_exit_code()
    {
        await using var registry = await RegistryServer.StartAsync(_kafka.Cluster, "_schemas.guarded");
        var lifetime = registry.App.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());

        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Fetch, [.. Enumerable.Repeat(Confluent.Kafka.ErrorCode.TopicAuthorizationFailed, 20)]);

        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var failure = registry.App.Services.GetRequiredService<ServiceFailure>();
        Assert.Equal(ExitCodes.DependencyFailed, failure.ExitCode);
        Assert.Contains("_schemas.guarded", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("TopicAuthorizationFailed", failure.Reason, StringComparison.Ordinal);
        _kafka.Cluster.ClearRequestErrors(KafkaApiKey.Fetch);
    }
}
