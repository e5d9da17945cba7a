using System.Diagnostics;
using EventPlatform.Testing;

namespace EventPlatform.LoadGen.Tests;

/// <summary>An embedded broker and a gateway, shared by the runs of a test class.</summary>
public sealed class GatewayOnBroker : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public GatewayServer Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Gateway = await GatewayServer.StartAsync(_kafka.Cluster);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

public sealed class WsFanoutRunTests(GatewayOnBroker platform) : IClassFixture<GatewayOnBroker>
{
    [Theory]
    [InlineData("http")]
    [InlineData("ws")]
    public async Task Every_subscriber_receives_every_published_event_and_each_delivery_is_timed(string publish)
    {
        var options = new WsFanoutOptions
        {
            Url = platform.Gateway.BaseAddress.ToString(),
            Topic = "transactions",
            Subscribers = 3,
            Rate = 200,
            Publish = publish,
            Warmup = TimeSpan.FromMilliseconds(300),
            Duration = TimeSpan.FromSeconds(1),
            DrainTimeout = TimeSpan.FromSeconds(10),
            Token = GatewayServer.Token(),
        };

        var report = await WsFanout.RunAsync(options, TextWriter.Null, CancellationToken.None);

        Assert.True(report.Succeeded, string.Join(Environment.NewLine, Summary(report)));
        Assert.InRange(report.Published, 150, 250);
        Assert.Equal(report.Published * 3, report.Delivered);
        Assert.Equal(report.Delivered, report.LatencyMs.Count);
        Assert.True(report.LatencyMs.P50 > 0 && report.LatencyMs.P50 <= report.LatencyMs.Max);
    }

    private static IEnumerable<string> Summary(WsFanoutReport report)
    {
        using var writer = new StringWriter();
        report.WriteSummary(writer);
        return writer.ToString().Split(Environment.NewLine);
    }
}

public sealed class WsFanoutTests
{
    [Fact]
    public void A_frame_of_this_run_gives_its_send_time_and_others_are_ignored()
    {
        var sent = Stopwatch.GetTimestamp();
        var frame = $$"""{"type":"event","event_id":"evt_fan_abc_7","payload":{"sent_at_ticks":{{sent}},"seq":7},"metadata":{"sent_at_ticks":1},"partition":0,"offset":3}""";

        Assert.True(WsFanout.TryReadSentAt(System.Text.Encoding.UTF8.GetBytes(frame), "evt_fan_abc_"u8, out var read));
        Assert.Equal(sent, read);
        Assert.False(WsFanout.TryReadSentAt(System.Text.Encoding.UTF8.GetBytes(frame), "evt_fan_xyz_"u8, out _));
        Assert.False(WsFanout.TryReadSentAt("""{"type":"subscribed","topic":"events.x","start_offsets":[]}"""u8, "evt_fan_abc_"u8, out _));
        Assert.False(WsFanout.TryReadSentAt("not json"u8, "evt_fan_abc_"u8, out _));
    }

    [Theory]
    [InlineData("""{"type":"ack","event_id":"evt_fan_abc_42","partition":1}""", 42)]
    [InlineData("""{"type":"error","event_id":"evt_fan_abc_9x","error_code":"X"}""", -1)]
    [InlineData("""{"type":"error","event_id":null,"error_code":"INVALID_JSON"}""", -1)]
    public void Answers_are_matched_by_the_sequence_number_in_their_event_id(string answer, long expected) =>
        Assert.Equal(expected, FanoutRun.ReadSequence(System.Text.Encoding.UTF8.GetBytes(answer)));

    [Theory]
    [InlineData("iot.sensors", "iot.sensor")]
    [InlineData("events.transactions", "transaction")]
    [InlineData("clickstream", "clickstream")]
    [InlineData("events.order.created", "order.created")]
    public void The_event_type_is_the_one_that_routes_to_the_topic(string topic, string eventType) =>
        Assert.Equal(eventType, WsFanout.EventTypeFor(topic));
}
