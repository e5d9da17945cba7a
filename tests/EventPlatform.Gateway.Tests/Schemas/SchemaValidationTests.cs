using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests.Schemas;

/// <summary>The gateway against a real registry: seed schemas, validation errors, what Kafka gets, binary input.</summary>
[Collection(SchemaCollection.Name)]
public sealed class SchemaValidationTests(SchemaFixture fixture)
{
    private static JsonObject Transaction(string id, JsonObject payload) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = "2024-01-15T10:30:00.123Z",
        ["event_type"] = "transaction",
        ["user_id"] = "user_789",
        ["payload"] = payload,
        ["metadata"] = new JsonObject { ["source"] = "test" },
    };

    [Fact]
    public async Task Seed_schemas_are_registered_at_start_and_again_idempotently()
    {
        var client = fixture.RegistryClient;
        Assert.Equal([1, 2], await client.GetSubjectVersionsAsync("events.transactions-value"));
        Assert.Equal([1], await client.GetSubjectVersionsAsync("payload-transaction"));
        var v1 = await client.GetRegisteredSchemaAsync("events.iot.sensors-value", 1);
        Assert.Equal(JsonNode.Parse(SeedAvroSchemas.Event)!.ToJsonString(), JsonNode.Parse(v1.SchemaString)!.ToJsonString());

        // A second gateway registers the same schemas: no new versions.
        await using var second = await GatewayServer.StartAsync(fixture.Kafka.Cluster, GatewayServer.WithRegistry(fixture.Registry));
        Assert.Equal([1, 2], await client.GetSubjectVersionsAsync("events.transactions-value"));
        Assert.Equal([1], await client.GetSubjectVersionsAsync("payload-transaction"));
    }

    [Fact]
    public async Task An_accepted_event_is_stored_as_Confluent_Avro_that_Confluents_deserializer_reads()
    {
        var id = "evt_avro_" + Guid.NewGuid().ToString("N");
        var (status, body) = await fixture.PostJsonAsync("transactions", Transaction(id, new JsonObject { ["amount"] = 12.5, ["currency"] = "EUR" }));
        Assert.Equal(200, status);

        var value = fixture.ValueAt("events.transactions", body!["partition"]!.GetValue<int>(), body["offset"]!.GetValue<long>());
        Assert.Equal(0, value[0]);
        fixture.RegistryClient.ClearLatestCaches();
        var latest = await fixture.RegistryClient.GetLatestSchemaAsync("events.transactions-value");
        Assert.Equal(latest.Id, BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)));

        var record = await fixture.DecodeWithConfluentAsync("events.transactions", value);
        Assert.Equal(id, record["event_id"]);
        Assert.Equal(DateTimeOffset.Parse("2024-01-15T10:30:00.123Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), record["timestamp"]);
        Assert.Equal("transaction", record["event_type"]);
        Assert.Equal("user_789", record["user_id"]);
        Assert.Null(record["device_id"]);
        Assert.Equal(12.5, JsonNode.Parse((string)record["payload"])!["amount"]!.GetValue<double>());
        Assert.Equal("test", JsonNode.Parse((string)record["metadata"])!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_payload_that_breaks_its_schema_is_refused_naming_the_schema_version_and_fields()
    {
        var topic = "events.transactions";
        var before = fixture.Kafka.Cluster is { } ? await HighWatermarkSumAsync(topic) : 0;
        var (status, body) = await fixture.PostJsonAsync("transactions", Transaction("evt_bad_" + Guid.NewGuid().ToString("N"), new JsonObject { ["currency"] = "euro" }));
        Assert.Equal(400, status);
        Assert.Equal("SCHEMA_VALIDATION_FAILED", body!["error_code"]!.GetValue<string>());
        Assert.Equal("Event does not match registered schema", body["message"]!.GetValue<string>());
        var details = body["details"]!;
        Assert.Equal(["payload.amount"], details["missing_fields"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.NotNull(details["invalid_fields"]!["payload.currency"]);
        Assert.Equal("payload-transaction", details["schema_subject"]!.GetValue<string>());
        Assert.Equal("1", details["schema_version"]!.GetValue<string>());

        // Nothing written: a valid event on the same key after it, once acknowledged, is the only
        // new record (a stray write of the refused one would be in Kafka before it).
        var (markerStatus, _) = await fixture.PostJsonAsync("transactions", Transaction("evt_marker_" + Guid.NewGuid().ToString("N"), new JsonObject { ["amount"] = 1.0, ["currency"] = "EUR" }));
        Assert.Equal(200, markerStatus);
        Assert.Equal(before + 1, await HighWatermarkSumAsync(topic));
    }

    [Fact]
    public async Task An_evolved_topic_schema_is_picked_up_and_enforced()
    {
        // Only this test posts clickstream events in this collection.
        const string subject = "events.clickstream-value";
        var client = fixture.RegistryClient;
        var gatewaySchemas = (EventPlatform.Schemas.Client.SchemaCache)fixture.Gateway.App.Services.GetService(typeof(EventPlatform.Schemas.Client.SchemaCache))!;
        var withRegion = JsonNode.Parse(SeedAvroSchemas.EventWithMetadata)!;
        withRegion["fields"]!.AsArray().Add(new JsonObject { ["name"] = "region", ["type"] = "string" });
        await client.UpdateCompatibilityAsync(Confluent.SchemaRegistry.Compatibility.None, subject);
        var id = await client.RegisterSchemaAsync(subject, new Schema(withRegion.ToJsonString(), SchemaType.Avro));
        var version = (await client.GetLatestSchemaAsync(subject)).Version;
        try
        {
            gatewaySchemas.Invalidate(subject); // what the background refresh does after Gateway:Schemas:RefreshInterval
            var (status, body) = await fixture.PostJsonAsync("clickstream", TestEvents.Of("clickstream", "evt_region_" + Guid.NewGuid().ToString("N"), userId: "user_1"));
            Assert.Equal(400, status);
            Assert.Equal(["region"], body!["details"]!["missing_fields"]!.AsArray().Select(x => x!.GetValue<string>()));
            Assert.Equal(version.ToString(System.Globalization.CultureInfo.InvariantCulture), body["details"]!["schema_version"]!.GetValue<string>());
            Assert.Equal(id, body["details"]!["schema_id"]!.GetValue<int>());

            var withField = TestEvents.Of("clickstream", "evt_region_" + Guid.NewGuid().ToString("N"), userId: "user_1");
            withField["region"] = "eu-west-1";
            (status, _) = await fixture.PostJsonAsync("clickstream", withField);
            Assert.Equal(400, status); // the event model has no 'region': the platform's events cannot satisfy it
        }
        finally
        {
            await fixture.Registry.Client.DeleteAsync($"subjects/{subject}/versions/{version}");
            await fixture.Registry.Client.DeleteAsync($"subjects/{subject}/versions/{version}?permanent=true");
            gatewaySchemas.Invalidate(subject);
        }

        var (again, answer) = await fixture.PostJsonAsync("clickstream", TestEvents.Of("clickstream", "evt_region_" + Guid.NewGuid().ToString("N"), userId: "user_1"));
        Assert.True(again == 200, answer?.ToJsonString());
    }

    [Fact]
    public async Task Avro_in_Confluents_wire_format_is_accepted_and_stored_canonically()
    {
        var client = fixture.RegistryClient;
        var schema = (Avro.RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
        var record = new GenericRecord(schema);
        var id = "evt_avroin_" + Guid.NewGuid().ToString("N");
        record.Add("event_id", id);
        record.Add("timestamp", 1_705_314_600_000L);
        record.Add("event_type", "iot.sensor");
        record.Add("user_id", null);
        record.Add("device_id", "device_456");
        record.Add("payload", """{"temperature":22.5,"humidity":65.0}""");
        var bytes = await new AvroSerializer<GenericRecord>(client, new AvroSerializerConfig { AutoRegisterSchemas = false, UseLatestVersion = false, NormalizeSchemas = false })
            .SerializeAsync(record, new SerializationContext(MessageComponentType.Value, "events.iot.sensors"));

        var (status, body) = await fixture.PostAsync("iot.sensors", bytes, "application/vnd.kafka.avro.v2+binary");
        Assert.True(status == 200, body?.ToJsonString());
        Assert.Equal(id, body!["event_id"]!.GetValue<string>());

        var stored = await fixture.DecodeWithConfluentAsync("events.iot.sensors", fixture.ValueAt("events.iot.sensors", body["partition"]!.GetValue<int>(), body["offset"]!.GetValue<long>()));
        Assert.Equal(id, stored["event_id"]);
        Assert.Equal(1_705_314_600_000L, stored["timestamp"]);
        Assert.Equal(22.5, JsonNode.Parse((string)stored["payload"])!["temperature"]!.GetValue<double>());
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 2 }, "UNKNOWN_SCHEMA")]
    [InlineData(new byte[] { 0, 0, 0x0F, 0x42, 0x3F, 2 }, "UNKNOWN_SCHEMA")]
    [InlineData(new byte[] { 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF }, "INVALID_ENCODING")]
    public async Task Bad_binary_bodies_are_refused_with_a_clear_400(byte[] body, string code)
    {
        var (status, answer) = await fixture.PostAsync("iot.sensors", body, "avro/binary");
        Assert.Equal(400, status);
        Assert.Equal(code, answer!["error_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Latest_shows_events_stored_as_Avro_in_their_JSON_form()
    {
        var id = "evt_latest_" + Guid.NewGuid().ToString("N");
        var (status, _) = await fixture.PostJsonAsync("transactions", Transaction(id, new JsonObject { ["amount"] = 99.0 }));
        Assert.Equal(200, status);
        using var response = await fixture.Gateway.Client.GetAsync("api/v1/events/transactions/latest?limit=50");
        var latest = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var mine = latest["events"]!.AsArray().Single(e => e!["event_id"]!.GetValue<string>() == id)!;
        Assert.Equal(99.0, mine["payload"]!["amount"]!.GetValue<double>());
        Assert.Equal("test", mine["metadata"]!["source"]!.GetValue<string>());
        Assert.StartsWith("2024-01-15T10:30:00.123", mine["timestamp"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_reports_the_registry_connected()
    {
        using var response = await fixture.Gateway.Client.GetAsync("api/v1/health");
        var health = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(health["schema_registry_connected"]!.GetValue<bool>());
        Assert.Equal("healthy", health["status"]!.GetValue<string>());
    }

    private async Task<long> HighWatermarkSumAsync(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = fixture.Kafka.BootstrapServers, GroupId = "hw" }).Build();
        var total = 0L;
        for (var p = 0; p < 12; p++)
        {
            total += consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(5)).High.Value;
        }

        await Task.CompletedTask;
        return total;
    }
}
