using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests.Schemas;

/// <summary>A registry outage does not stop ingestion for schemas the gateway already knows.</summary>
[Collection(SchemaCollection.Name)]
public sealed class RegistryOutageTests(SchemaFixture fixture)
{
    [Fact]
    public async Task Known_schemas_keep_serving_while_the_registry_is_down_and_unknown_ones_get_503()
    {
        var registry = await RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-outage-" + Guid.NewGuid().ToString("N"));
        await using var gateway = await GatewayServer.StartAsync(fixture.Kafka.Cluster, GatewayServer.WithRegistry(registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
            ["Gateway:Schemas:RefreshInterval"] = "00:00:01",
        }));

        // Warm: the iot.sensor schemas are looked up by the first event.
        Assert.Equal(200, (int)(await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_warm_" + Guid.NewGuid().ToString("N"))))).StatusCode);

        await registry.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the refresh interval: refreshes now fail

        for (var i = 0; i < 5; i++)
        {
            var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_outage_" + Guid.NewGuid().ToString("N"))));
            Assert.Equal(200, (int)response.StatusCode);
        }

        // Clickstream's schemas were never looked up: nothing to validate against.
        var unknown = await gateway.Client.PostAsync("api/v1/events/clickstream", TestEvents.Json(TestEvents.Of("clickstream", "evt_cold_" + Guid.NewGuid().ToString("N"), userId: "u1")));
        Assert.Equal(503, (int)unknown.StatusCode);
        var body = JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!;
        Assert.Equal("SCHEMA_REGISTRY_UNAVAILABLE", body["error_code"]!.GetValue<string>());

        var health = JsonNode.Parse(await (await gateway.Client.GetAsync("api/v1/health")).Content.ReadAsStringAsync())!;
        Assert.False(health["schema_registry_connected"]!.GetValue<bool>());
        Assert.Equal("degraded", health["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Binary_bodies_are_refused_with_415_when_schemas_are_off()
    {
        await using var gateway = await GatewayServer.StartAsync(fixture.Kafka.Cluster);
        using var content = new ByteArrayContent([0, 0, 0, 0, 1]);
        content.Headers.ContentType = new MediaTypeHeaderValue("avro/binary");
        var response = await gateway.Client.PostAsync("api/v1/events/iot.sensors", content);
        Assert.Equal(415, (int)response.StatusCode);
    }
}
