using Confluent.Kafka;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Gateway.Tests;

/// <summary>The idempotency topic as it is created, and failing for good when it must be read: the gateway stops rather than publish without deduplication.</summary>
public sealed class StateTopicFailureTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public void The_idempotency_topic_is_created_with_a_retention_of_its_window_plus_the_margin()
    {
        var options = new IdempotencyOptions { Window = TimeSpan.FromHours(2), RetentionMargin = TimeSpan.FromMinutes(30), Partitions = 6 };

        var spec = IdempotencyStore.TopicFor(options, new Kafka.Configuration.KafkaOptions());

        Assert.Equal(("_eventplatform.idempotency", 6, (short)3), (spec.Name, spec.Partitions, spec.ReplicationFactor));
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "delete", ["retention.ms"] = "9000000" }, spec.Configs);
    }

    [Fact]
    public async Task An_unreadable_idempotency_topic_stops_the_gateway_with_a_non_zero_exit_code_naming_the_topic()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var lifetime = gateway.App.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());

        using (var ready = await gateway.Client.GetAsync("health/ready"))
        {
            var checks = (await ready.JsonAsync())["checks"]!;
            Assert.Equal("Healthy", (string?)checks["idempotency"]!["status"]);
        }

        // A single gateway applies its own records at their acknowledgement and fetches nothing; it
        // reads when another writer's record lies below its own. Put one in every partition, so that
        // the next claim makes it read, and make every read fail.
        using (var other = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
        {
            for (var partition = 0; partition < new IdempotencyOptions().Partitions; partition++)
            {
                await other.ProduceAsync(new TopicPartition("_eventplatform.idempotency", partition), new Message<byte[]?, byte[]> { Value = [0xFF] });
            }
        }

        // Only the idempotency reader fetches here (no stream subscribers, no schema registry).
        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Fetch, [.. Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 20)]);
        using (var first = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_fatal_{Guid.NewGuid():N}"))))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, first.StatusCode);
        }

        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var failure = gateway.App.Services.GetRequiredService<ServiceFailure>();
        Assert.Equal(ExitCodes.DependencyFailed, failure.ExitCode);
        Assert.Contains("_eventplatform.idempotency", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("TopicAuthorizationFailed", failure.Reason, StringComparison.Ordinal);

        // Not ready: a retry could not be recognised.
        using (var notReady = await gateway.Client.GetAsync("health/ready"))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            var idempotency = (await notReady.JsonAsync())["checks"]!["idempotency"]!;
            Assert.Equal("Unhealthy", (string?)idempotency["status"]);
            Assert.Contains("_eventplatform.idempotency", (string?)idempotency["description"], StringComparison.Ordinal);
        }

        // Until the host has stopped, a request is refused as not published, never half-deduplicated.
        using var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_fatal_{Guid.NewGuid():N}")));
        var body = await response.JsonAsync();
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("KAFKA_UNAVAILABLE", (string?)body["error_code"]);
        Assert.Equal("idempotency_read", (string?)body["details"]!["stage"]);
        _kafka.Cluster.ClearRequestErrors(KafkaApiKey.Fetch);
    }
}
