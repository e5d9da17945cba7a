using System.Reflection;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Processor.Output;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Processor.Tests;

public class OutputRecordTests
{
    private const int SchemaId = 31;
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 10, 30, 0, TimeSpan.Zero);

    private static WindowIdentity Tumbling(long sizeMs) =>
        new(WindowKind.Tumbling, sizeMs, sizeMs, new TimeWindow(Start.ToUnixTimeMilliseconds(), Start.ToUnixTimeMilliseconds() + sizeMs));

    [Fact]
    public void The_schema_is_accepted_by_our_avro_parser_with_the_fields_in_order()
    {
        var parsed = AvroFormat.Instance.Parse(AggregatedEventSchema.Avro, []);
        var schema = Assert.IsType<AvroRecordSchema>(AvroSchema.Parse(AggregatedEventSchema.Avro));

        Assert.Equal(EventPlatform.Schemas.SchemaType.AVRO, parsed.Type);
        Assert.Equal(AggregatedEventSchema.FullName, schema.FullName);
        Assert.Equal(
            ["window_start", "window_end", "event_type", "count", "sum_value", "avg_value", "min_value", "max_value", "distinct_users",
             "window_kind", "window_size_ms", "window_slide_ms", "window_key", "is_update", "processed_time"],
            schema.Fields.Select(f => f.Name));
    }

    [Fact]
    public async Task Confluents_deserializer_reads_a_result_back_with_its_values()
    {
        var window = new WindowIdentity(WindowKind.Sliding, 300_000, 60_000, new TimeWindow(Start.ToUnixTimeMilliseconds(), Start.ToUnixTimeMilliseconds() + 300_000));
        var readings = new AggregatedReadings(5, 110.5, 22.1, -3.25, 80, 3);
        var value = new AggregatedEventEncoder(SchemaId).Encode("iot.sensor", window, null, readings, isUpdate: true);

        var record = await Deserialize(value);

        Assert.Equal(Start.UtcDateTime, record["window_start"]);
        Assert.Equal(Start.AddMinutes(5).UtcDateTime, record["window_end"]);
        Assert.Equal("iot.sensor", record["event_type"]);
        Assert.Equal(5L, record["count"]);
        Assert.Equal(110.5, record["sum_value"]);
        Assert.Equal(22.1, record["avg_value"]);
        Assert.Equal(-3.25, record["min_value"]);
        Assert.Equal(80.0, record["max_value"]);
        Assert.Equal(3L, record["distinct_users"]);
        Assert.Equal("sliding", record["window_kind"]);
        Assert.Equal(300_000L, record["window_size_ms"]);
        Assert.Equal(60_000L, record["window_slide_ms"]);
        Assert.Null(record["window_key"]);
        Assert.Equal(true, record["is_update"]);
        Assert.Equal(Start.AddMinutes(5).UtcDateTime, record["processed_time"]);
    }

    [Fact]
    public async Task A_keyed_session_without_readings_reads_back_with_null_figures_and_its_key()
    {
        var window = new WindowIdentity(WindowKind.Session, 1_800_000, 0, new TimeWindow(Start.ToUnixTimeMilliseconds(), Start.ToUnixTimeMilliseconds() + 1_801_234));
        var value = new AggregatedEventEncoder(SchemaId).Encode("clickstream", window, "user-é|42", new AggregatedReadings(7, null, null, null, null, 1), false);

        var record = await Deserialize(value);

        Assert.Equal(7L, record["count"]);
        Assert.All(new[] { "sum_value", "avg_value", "min_value", "max_value" }, f => Assert.Null(record[f]));
        Assert.Equal("session", record["window_kind"]);
        Assert.Equal(0L, record["window_slide_ms"]);
        Assert.Equal("user-é|42", record["window_key"]);
        Assert.Equal(false, record["is_update"]);
        Assert.Equal(Start.AddMilliseconds(1_801_234).UtcDateTime, record["window_end"]);
        Assert.Equal(record["window_end"], record["processed_time"]);
    }

    [Fact]
    public void The_same_result_encodes_to_the_same_bytes()
    {
        var readings = new AggregatedReadings(2, 3, 1.5, 1, 2, 2);
        var encoder = new AggregatedEventEncoder(SchemaId);

        Assert.Equal(
            encoder.Encode("transaction", Tumbling(60_000), null, readings, false),
            encoder.Encode("transaction", Tumbling(60_000), null, readings with { }, false));
    }

    [Fact]
    public void Keys_name_the_window_identity()
    {
        var sliding = new WindowIdentity(WindowKind.Sliding, 300_000, 60_000, new TimeWindow(Start.ToUnixTimeMilliseconds(), Start.ToUnixTimeMilliseconds() + 300_000));
        var session = new WindowIdentity(WindowKind.Session, 1_800_000, 0, new TimeWindow(Start.ToUnixTimeMilliseconds() + 12_345, Start.ToUnixTimeMilliseconds() + 2_000_000));

        Assert.Equal("iot.sensor|tumbling|60000|2024-01-15T10:30:00.000Z", AggregatedEventKey.Of("iot.sensor", Tumbling(60_000), null));
        Assert.Equal("transaction|sliding|300000/60000|2024-01-15T10:30:00.000Z", AggregatedEventKey.Of("transaction", sliding, null));
        Assert.Equal("clickstream|session|1800000|2024-01-15T10:30:12.345Z|user-42", AggregatedEventKey.Of("clickstream", session, "user-42"));
        Assert.NotEqual(AggregatedEventKey.Of("iot.sensor", Tumbling(60_000), null), AggregatedEventKey.Of("iot.sensor", Tumbling(300_000), null));
        Assert.Equal("iot.sensor|tumbling|60000|2024-01-15T10:30:00.000Z"u8.ToArray(), AggregatedEventKey.Utf8("iot.sensor", Tumbling(60_000), null));
    }

    private static async Task<GenericRecord> Deserialize(byte[] value)
    {
        var deserializer = new AvroDeserializer<GenericRecord>(FakeRegistry.With(SchemaId, AggregatedEventSchema.Avro));
        return await deserializer.DeserializeAsync(value, isNull: false, new SerializationContext(MessageComponentType.Value, AggregatedEventSchema.Topic));
    }

    /// <summary>
    /// A registry client that knows one schema by id and refuses everything else, so a test sees
    /// any call the deserializer makes beyond reading the writer's schema.
    /// </summary>
    public class FakeRegistry : DispatchProxy
    {
        private int _id;
        private string _schema = "";

        public static ISchemaRegistryClient With(int id, string schema)
        {
            var client = Create<ISchemaRegistryClient, FakeRegistry>();
            var fake = (FakeRegistry)(object)client;
            fake._id = id;
            fake._schema = schema;
            return client;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            switch (targetMethod.Name)
            {
                case nameof(ISchemaRegistryClient.GetSchemaAsync) when args is [int byId, ..]:
                    return Lookup(byId);
                case nameof(ISchemaRegistryClient.GetSchemaBySubjectAndIdAsync) when args is [_, int bySubjectAndId, ..]:
                    return Lookup(bySubjectAndId);
                case "get_MaxCachedSchemas":
                    return 1000;
                case nameof(ISchemaRegistryClient.GetAssociationsByResourceNameAsync):
                    // No data-contract associations: an empty list of the declared element type.
                    var list = Activator.CreateInstance(targetMethod.ReturnType.GetGenericArguments()[0]);
                    return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(list!.GetType()).Invoke(null, [list]);
                case "get_Config":
                    return new List<KeyValuePair<string, string>>();
                default:
                    throw new NotSupportedException($"The fake registry does not answer {targetMethod.Name}.");
            }
        }

        private Task<Schema> Lookup(int id) => id == _id
            ? Task.FromResult(new Schema(_schema, Confluent.SchemaRegistry.SchemaType.Avro))
            : Task.FromException<Schema>(new SchemaRegistryException("Schema not found", System.Net.HttpStatusCode.NotFound, 40403));
    }
}
