using System.Text.Json.Serialization;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>Confluent's JSON Schema serializer and deserializer, unchanged, against our registry.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ConfluentJsonSerdesTests(RegistryFixture fixture)
{
    public sealed class Reading
    {
        [JsonPropertyName("device_id")]
        public string DeviceId { get; set; } = "";

        [JsonPropertyName("temperature")]
        public double Temperature { get; set; }
    }

    [Fact]
    public async Task Json_serializer_registers_a_JSON_schema_and_round_trips()
    {
        using var client = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig());
        var topic = "json-serdes-" + Guid.NewGuid().ToString("N");
        var context = new SerializationContext(MessageComponentType.Value, topic);

        var bytes = await new JsonSerializer<Reading>(client).SerializeAsync(new Reading { DeviceId = "device_456", Temperature = 22.5 }, context);
        Assert.Equal(0, bytes[0]);

        var registered = await client.GetLatestSchemaAsync(topic + "-value");
        Assert.Equal(SchemaType.Json, registered.SchemaType);
        Assert.Equal(registered.Id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4)));

        var back = await new JsonDeserializer<Reading>().DeserializeAsync(bytes, isNull: false, context);
        Assert.Equal("device_456", back.DeviceId);
        Assert.Equal(22.5, back.Temperature);
    }

    [Fact]
    public async Task Json_schema_evolution_is_checked_by_Confluents_rules()
    {
        using var client = new CachedSchemaRegistryClient(fixture.Registry.ClientConfig());
        var subject = RegistryFixture.NewSubject("json");
        const string v1 = """{"type":"object","properties":{"amount":{"type":"number"}},"additionalProperties":false}""";
        const string requiredAdded = """{"type":"object","properties":{"amount":{"type":"number"},"currency":{"type":"string"}},"required":["currency"],"additionalProperties":false}""";
        const string optionalAdded = """{"type":"object","properties":{"amount":{"type":"number"},"currency":{"type":"string"}},"additionalProperties":false}""";

        await client.RegisterSchemaAsync(subject, new Schema(v1, SchemaType.Json));
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.RegisterSchemaAsync(subject, new Schema(requiredAdded, SchemaType.Json)));
        Assert.Equal(40901, refused.ErrorCode);
        Assert.Contains("currency", refused.Message, StringComparison.Ordinal);
        Assert.True(await client.RegisterSchemaAsync(subject, new Schema(optionalAdded, SchemaType.Json)) > 0);
    }
}
