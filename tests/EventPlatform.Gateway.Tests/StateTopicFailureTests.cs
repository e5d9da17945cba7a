using Confluent.Kafka;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Gateway.Tests;

/// <summary>The idempotency topic failing for good stops the gateway, rather than publishing without deduplication.</summary>
public sealed class StateTopicFailureTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task An_unreadable_idempotency_topic_stops_the_gateway_with_a_non_zero_exit_code_naming_the_topic()
    {
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster);
        var lifetime = gateway.App.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());

        // Only the idempotency reader fetches here (no stream subscribers, no schema registry).
        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Fetch, [.. Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 20)]);

        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var failure = gateway.App.Services.GetRequiredService<ServiceFailure>();
        Assert.Equal(ExitCodes.DependencyFailed, failure.ExitCode);
        Assert.Contains("_eventplatform.idempotency", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("TopicAuthorizationFailed", failure.Reason, StringComparison.Ordinal);
        _kafka.Cluster.ClearRequestErrors(KafkaApiKey.Fetch);
    }
}
