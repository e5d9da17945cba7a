using System.Text.Json.Nodes;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Tests.Schemas;

/// <summary>The gateway against a registry that lets nobody in without credentials, not even to read.</summary>
[Collection(SchemaCollection.Name)]
public sealed class SecuredRegistryTests(SchemaFixture fixture)
{
    [Fact]
    public async Task With_its_credentials_the_gateway_registers_the_seed_schemas_and_validates_events()
    {
        await using var registry = await ClosedRegistryAsync();
        await using var gateway = await GatewayServer.StartAsync(fixture.Kafka.Cluster, GatewayServer.WithRegistry(registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
            // A writer is enough to register schemas.
            ["SchemaRegistry:BasicAuthUserInfo"] = RegistryServer.WriterUser + ":" + RegistryServer.WriterPassword,
        }));

        Assert.True(gateway.App.Services.GetRequiredService<SeedSchemaRegistration>().Registered.IsCompletedSuccessfully);
        using var reader = registry.NewClient(RegistryServer.ReaderUser, RegistryServer.ReaderPassword);
        var subjects = JsonNode.Parse(await reader.GetStringAsync("subjects"))!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("events.iot.sensors-value", subjects);
        Assert.Contains("payload-iot.sensor", subjects);

        var accepted = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_secured_" + Guid.NewGuid().ToString("N"))));
        Assert.Equal(200, (int)accepted.StatusCode);

        var broken = TestEvents.Iot("evt_secured_bad_" + Guid.NewGuid().ToString("N"));
        broken["payload"] = new JsonObject { ["humidity"] = 150.0 };
        var refused = await gateway.Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(broken));
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Equal("SCHEMA_VALIDATION_FAILED", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error_code"]!.GetValue<string>());

        var health = JsonNode.Parse(await (await gateway.Client.GetAsync("api/v1/health")).Content.ReadAsStringAsync())!;
        Assert.True(health["schema_registry_connected"]!.GetValue<bool>());
    }

    [Fact]
    public async Task With_wrong_credentials_the_gateway_registers_nothing_and_health_says_the_registry_is_not_connected()
    {
        await using var registry = await ClosedRegistryAsync();
        await using var gateway = await GatewayServer.StartAsync(fixture.Kafka.Cluster, GatewayServer.WithRegistry(registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "false",
            ["SchemaRegistry:BasicAuthUserInfo"] = RegistryServer.AdminUser + ":not-the-password",
        }));

        Assert.False(gateway.App.Services.GetRequiredService<SeedSchemaRegistration>().Registered.IsCompleted);
        using var versions = await registry.Client.GetAsync("subjects/events.iot.sensors-value/versions");
        Assert.Equal(404, (int)versions.StatusCode);

        var health = JsonNode.Parse(await (await gateway.Client.GetAsync("api/v1/health")).Content.ReadAsStringAsync())!;
        Assert.False(health["schema_registry_connected"]!.GetValue<bool>());
    }

    private Task<RegistryServer> ClosedRegistryAsync() =>
        RegistryServer.StartAsync(fixture.Kafka.Cluster, "_schemas-secured-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string?>
        {
            ["Registry:Auth:AnonymousRead"] = "false",
        });
}
