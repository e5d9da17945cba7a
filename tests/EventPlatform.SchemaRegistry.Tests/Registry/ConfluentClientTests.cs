using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using AvroSchemaParser = global::Avro.Schema;
using ConfluentCompatibility = Confluent.SchemaRegistry.Compatibility;
using RecordSchema = global::Avro.RecordSchema;
using Schema = Confluent.SchemaRegistry.Schema;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>Confluent's own .NET client and Avro serializers, unchanged, against our registry over HTTP.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ConfluentClientTests(RegistryFixture fixture)
{
    private CachedSchemaRegistryClient NewClient() => new(fixture.Registry.ClientConfig());

    [Fact]
    public async Task Register_look_up_and_evolve_with_CachedSchemaRegistryClient()
    {
        using var client = NewClient();
        var subject = RegistryFixture.NewSubject("client");

        var id1 = await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro));
        Assert.Equal(id1, await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro))); // idempotent

        var byId = await client.GetSchemaAsync(id1);
        Assert.Equal(SchemaType.Avro, byId.SchemaType);
        Assert.Contains("\"event_id\"", byId.SchemaString, StringComparison.Ordinal);

        Assert.True(await client.IsCompatibleAsync(subject, new Schema(TestSchemas.V2, SchemaType.Avro)));
        Assert.False(await client.IsCompatibleAsync(subject, new Schema(TestSchemas.NoDefault, SchemaType.Avro)));

        var id2 = await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.V2, SchemaType.Avro));
        Assert.NotEqual(id1, id2);
        var latest = await client.GetLatestSchemaAsync(subject);
        Assert.Equal(2, latest.Version);
        Assert.Equal(id2, latest.Id);
        Assert.Equal([1, 2], await client.GetSubjectVersionsAsync(subject));
        Assert.Contains(subject, await client.GetAllSubjectsAsync());

        var looked = await client.LookupSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro), ignoreDeletedSchemas: true);
        Assert.Equal(1, looked.Version);
        Assert.Equal(id1, looked.Id);

        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.RegisterSchemaAsync(subject, new Schema(TestSchemas.NoDefault, SchemaType.Avro)));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, refused.Status);
        Assert.Equal(40901, refused.ErrorCode);
        Assert.Contains("amount", refused.Message, StringComparison.Ordinal);
        Assert.Contains("READER_FIELD_MISSING_DEFAULT_VALUE", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compatibility_level_is_set_and_read_per_subject()
    {
        using var client = NewClient();
        var subject = RegistryFixture.NewSubject("config");
        await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.V1, SchemaType.Avro));

        Assert.Equal(ConfluentCompatibility.None, await client.UpdateCompatibilityAsync(ConfluentCompatibility.None, subject));
        Assert.Equal(ConfluentCompatibility.None, await client.GetCompatibilityAsync(subject));

        // Under NONE the incompatible change is accepted.
        var id = await client.RegisterSchemaAsync(subject, new Schema(TestSchemas.NoDefault, SchemaType.Avro));
        Assert.True(id > 0);
    }

    [Fact]
    public async Task Avro_serializer_and_deserializer_work_through_our_registry()
    {
        using var client = NewClient();
        var topic = "avro-serdes-" + Guid.NewGuid().ToString("N");
        var schema = (RecordSchema)AvroSchemaParser.Parse(TestSchemas.V2);

        var serializer = new AvroSerializer<GenericRecord>(client, new AvroSerializerConfig { AutoRegisterSchemas = true });
        var deserializer = new AvroDeserializer<GenericRecord>(client);
        var record = new GenericRecord(schema);
        record.Add("event_id", "evt_1");
        record.Add("timestamp", 1_705_314_600_000L);
        record.Add("user_id", "user_789");

        var context = new SerializationContext(MessageComponentType.Value, topic);
        var bytes = await serializer.SerializeAsync(record, context);

        // Confluent wire format: magic byte 0, then the id our registry assigned, big-endian.
        Assert.Equal(0, bytes[0]);
        var id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4));
        var registered = await client.GetLatestSchemaAsync(topic + "-value");
        Assert.Equal(registered.Id, id);

        var back = await deserializer.DeserializeAsync(bytes, isNull: false, context);
        Assert.Equal("evt_1", back["event_id"]);
        Assert.Equal(1_705_314_600_000L, back["timestamp"]);
        Assert.Equal("user_789", back["user_id"]);
    }

    [Fact]
    public async Task Deserializer_resolves_old_data_with_a_new_reader_schema()
    {
        using var client = NewClient();
        var topic = "avro-evolve-" + Guid.NewGuid().ToString("N");
        var context = new SerializationContext(MessageComponentType.Value, topic);
        var v1 = (RecordSchema)AvroSchemaParser.Parse(TestSchemas.V1);
        var old = new GenericRecord(v1);
        old.Add("event_id", "evt_old");
        old.Add("timestamp", 1L);
        var bytes = await new AvroSerializer<GenericRecord>(client).SerializeAsync(old, context);

        // Evolve the subject, then read the old bytes: the writer's schema is fetched by id from us.
        await client.RegisterSchemaAsync(topic + "-value", new Schema(TestSchemas.V2, SchemaType.Avro));
        var back = await new AvroDeserializer<GenericRecord>(client).DeserializeAsync(bytes, isNull: false, context);
        Assert.Equal("evt_old", back["event_id"]);
    }
}
