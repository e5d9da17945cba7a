using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.LoadGen.Tests;

/// <summary>A broker, a schema registry, and a gateway validating against it (it registers the seed schemas).</summary>
public sealed class GatewayWithRegistry : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public RegistryServer Registry { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Registry = await RegistryServer.StartAsync(_kafka.Cluster);
        Gateway = await GatewayServer.StartAsync(_kafka.Cluster, GatewayServer.WithRegistry(Registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
        }));
        await Gateway.App.Services.GetRequiredService<SeedSchemaRegistration>().Registered.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

public sealed class BinaryBodyTests(GatewayWithRegistry platform) : IClassFixture<GatewayWithRegistry>
{
    [Theory]
    [InlineData(BodyFormat.Avro, "iot.sensors")]
    [InlineData(BodyFormat.Avro, "clickstream")]
    [InlineData(BodyFormat.Avro, "transactions")]
    [InlineData(BodyFormat.Protobuf, "iot.sensors")]
    [InlineData(BodyFormat.Protobuf, "clickstream")]
    [InlineData(BodyFormat.Protobuf, "transactions")]
    public async Task Binary_bodies_decode_with_the_gateways_decoders_to_the_generated_events_and_pass_its_schemas(BodyFormat format, string topic)
    {
        var options = new LoadGenOptions { Topic = topic, Format = format, RegistryUrl = platform.Registry.Url, RegistryUserInfo = RegistryServer.AdminUserInfo };
        var factory = new EventBodyFactory(topic, "run123456789");
        var bodies = await RegistryLookup.BodiesAsync(options, factory, CancellationToken.None);
        var wire = platform.Gateway.App.Services.GetRequiredService<WireEventDecoder>();
        var gate = platform.Gateway.App.Services.GetRequiredService<SchemaGate>();

        for (var i = 0; i < 100; i++)
        {
            var json = factory.Create(1, asArray: false);
            var (decoded, failure) = await wire.DecodeAsync(bodies.Encode(json), format == BodyFormat.Avro ? WireFormat.Avro : WireFormat.Protobuf);
            Assert.True(failure is null, failure?.Message);

            var expected = EventJsonReader.ReadSingle(json).Result.Event!;
            var actual = EventJsonReader.ReadSingle(decoded!).Result.Event;
            Assert.NotNull(actual);
            Assert.Equal((expected.EventId, expected.Timestamp, expected.EventType, expected.UserId, expected.DeviceId), (actual.EventId, actual.Timestamp, actual.EventType, actual.UserId, actual.DeviceId));
            Assert.True(SameJson(expected.Payload, actual.Payload), Encoding.UTF8.GetString(actual.Payload.Span));
            Assert.True(SameJson(expected.Metadata, actual.Metadata), Encoding.UTF8.GetString(actual.Metadata.Span));

            var outcome = await gate.EncodeAsync(TopicRouter.FullTopicName(topic), actual);
            Assert.True(outcome.Failure is null, outcome.Failure?.Message + " " + outcome.Failure?.Details?.ToJsonString());
        }
    }

    /// <summary>Equal JSON values (numbers by value: Protobuf's Struct reads 65.0 back as 65).</summary>
    private static bool SameJson(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b)
    {
        using var left = JsonDocument.Parse(a);
        using var right = JsonDocument.Parse(b);
        return JsonElement.DeepEquals(left.RootElement, right.RootElement);
    }

    [Theory]
    [InlineData(BodyFormat.Avro)]
    [InlineData(BodyFormat.Protobuf)]
    public async Task The_gateway_accepts_a_binary_body_with_its_content_type(BodyFormat format)
    {
        var options = new LoadGenOptions { Format = format, RegistryUrl = platform.Registry.Url, RegistryUserInfo = RegistryServer.AdminUserInfo };
        var bodies = await RegistryLookup.BodiesAsync(options, new EventBodyFactory(options.Topic, "run123456789"), CancellationToken.None);
        using var content = new ByteArrayContent(bodies.Create(1, asArray: false));
        content.Headers.ContentType = new MediaTypeHeaderValue(bodies.ContentType);

        using var response = await platform.Gateway.Client.PostAsync($"api/v1/events/{options.Topic}", content);

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Binary_formats_take_single_events_only()
    {
        var options = new LoadGenOptions { Format = BodyFormat.Avro, BatchSize = 10 };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
    }
}
