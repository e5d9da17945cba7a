using System.Net;
using Confluent.Kafka;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests;

public static class NewEventTypes
{
    public static Arbitrary<string> EventType() => Arb.From(
        Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789_-".ToCharArray()).NonEmptyListOf()
            .Select(cs => "t" + new string([.. cs.Take(30)]) + "." + Guid.NewGuid().ToString("N")[..6]));
}

/// <summary>Property 19 with dynamic topics on: a gateway of its own on a broker of its own.</summary>
public sealed class DynamicTopicTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private GatewayServer _gateway = null!;
    private IAdminClient _admin = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:DynamicTopics"] = "true",
            ["Gateway:DynamicTopicPartitions"] = "3",
        });
        _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    // Feature: kafka-event-streaming-platform, Property 19: Dynamic topic creation
    // For any event with a new event_type not previously seen, the Event Streaming Platform should
    // create a corresponding Kafka topic if configured for dynamic topic creation.
    [Property(MaxTest = 100, Arbitrary = [typeof(NewEventTypes)])]
    public async Task Property_19_a_new_event_type_gets_its_own_topic(string eventType)
    {
        var topic = "events." + eventType;
        var response = await _gateway.Client.PostAsync($"api/v1/events/{eventType}", TestEvents.Json(TestEvents.Of(eventType, "evt_" + Guid.NewGuid().ToString("N"), userId: "u")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(topic, (string?)(await response.JsonAsync())["topic"]);
        var metadata = _admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
        Assert.Equal(ErrorCode.NoError, metadata.Error.Code);
        Assert.Equal(3, metadata.Partitions.Count);
    }

    [Fact]
    public async Task Many_first_events_of_a_new_type_at_once_all_land_in_one_topic()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            _gateway.Client.PostAsync("api/v1/events/events.order.created", TestEvents.Json(TestEvents.Of("order.created", $"evt_{i}_{Guid.NewGuid():N}", userId: $"u{i}")))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var records = await KafkaReader.ReadAtLeastAsync(_kafka.BootstrapServers, "events.order.created", 30, TimeSpan.FromSeconds(20));
        Assert.Equal(30, records.Count);
    }

    [Theory]
    [InlineData("iot.sensors", "iot.sensors", HttpStatusCode.BadRequest, "UNKNOWN_EVENT_TYPE")]
    [InlineData("aggregated", "aggregated", HttpStatusCode.NotFound, "UNKNOWN_TOPIC")]
    [InlineData("dlq", "dlq", HttpStatusCode.NotFound, "UNKNOWN_TOPIC")]
    public async Task A_new_type_can_never_write_into_a_topic_that_is_not_its_own(string path, string eventType, HttpStatusCode status, string code)
    {
        var response = await _gateway.Client.PostAsync($"api/v1/events/{path}", TestEvents.Json(TestEvents.Of(eventType, "evt_x")));
        Assert.Equal(status, response.StatusCode);
        Responses.AssertIsErrorResponse(await response.JsonAsync(), code);
    }
}
