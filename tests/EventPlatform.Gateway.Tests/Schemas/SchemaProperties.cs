using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Protobuf;
using EventPlatform.Schemas;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ConfluentSchemaType = Confluent.SchemaRegistry.SchemaType;

namespace EventPlatform.Gateway.Tests.Schemas;

/// <summary>How a generated event departs from the registered schemas (None: it matches them).</summary>
public enum Departure
{
    None,
    TemperatureIsText,
    HumidityOutOfRange,
    NoReading,
    AmountMissing,
    AmountIsText,
    CurrencyNotIso,
    NegativeDuration,
    DurationNotInteger,
}

/// <summary>A generated event and what the test (not the gateway) knows about it.</summary>
public sealed record SchemaCase(JsonObject Event, string Path, string Topic, Departure Departure)
{
    public override string ToString() => $"{Departure}: {Event.ToJsonString()}";
}

public static class SchemaArbitraries
{
    private static readonly Departure[] IotDepartures = [Departure.None, Departure.TemperatureIsText, Departure.HumidityOutOfRange, Departure.NoReading];
    private static readonly Departure[] TransactionDepartures = [Departure.None, Departure.AmountMissing, Departure.AmountIsText, Departure.CurrencyNotIso];
    private static readonly Departure[] ClickDepartures = [Departure.None, Departure.NegativeDuration, Departure.DurationNotInteger];

    private static Gen<string> Word => Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789_-é".ToCharArray()).NonEmptyListOf().Select(cs => new string([.. cs.Take(16)]));

    public static Arbitrary<SchemaCase> SchemaCase() => Arb.From(
        from kind in Gen.Choose(0, 2)
        from departure in Gen.Elements(kind switch { 0 => IotDepartures, 1 => TransactionDepartures, _ => ClickDepartures })
        from user in Word
        from millis in Gen.Choose(0, int.MaxValue)
        from a in Gen.Choose(-5000, 5000)
        from b in Gen.Choose(0, 100)
        from word in Word
        select Build(kind, departure, user, millis, a, b, word));

    /// <summary>Valid events only, for the format property.</summary>
    public static Arbitrary<ValidSchemaEvent> ValidSchemaEvent() => Arb.From(
        SchemaCase().Generator.Where(c => c.Departure == Departure.None).Select(c => new ValidSchemaEvent(c)));

    private static SchemaCase Build(int kind, Departure departure, string user, int millis, int a, int b, string word)
    {
        var payload = new JsonObject();
        var (type, path, topic) = kind switch
        {
            0 => ("iot.sensor", "iot.sensors", "events.iot.sensors"),
            1 => ("transaction", "transactions", "events.transactions"),
            _ => ("clickstream", "clickstream", "events.clickstream"),
        };
        switch (kind)
        {
            case 0:
                payload["temperature"] = departure == Departure.TemperatureIsText ? JsonValue.Create("hot " + word) : JsonValue.Create(a / 10.0);
                payload["humidity"] = departure == Departure.HumidityOutOfRange ? 100 + b + 1 : b;
                payload["unit"] = word;
                if (departure == Departure.NoReading)
                {
                    payload.Remove("temperature");
                    payload.Remove("humidity");
                }

                break;
            case 1:
                payload["amount"] = departure == Departure.AmountIsText ? JsonValue.Create(a.ToString(CultureInfo.InvariantCulture) + " EUR") : JsonValue.Create(a / 100.0);
                payload["currency"] = departure == Departure.CurrencyNotIso ? word.ToLowerInvariant() + "x" : "EUR";
                payload["merchant"] = word;
                if (departure == Departure.AmountMissing)
                {
                    payload.Remove("amount");
                }

                break;
            default:
                payload["page"] = "/" + word;
                payload["duration_ms"] = departure switch
                {
                    Departure.NegativeDuration => JsonValue.Create(-1 - b),
                    Departure.DurationNotInteger => JsonValue.Create(b + 0.5),
                    _ => JsonValue.Create(b),
                };
                break;
        }

        var e = new JsonObject
        {
            ["event_id"] = "evt_" + word + "_" + Guid.NewGuid().ToString("N")[..10],
            ["timestamp"] = DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000L + millis).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["event_type"] = type,
            ["user_id"] = "user_" + user,
            ["payload"] = payload,
        };
        return new SchemaCase(e, path, topic, departure);
    }
}

public sealed record ValidSchemaEvent(SchemaCase Case)
{
    public override string ToString() => Case.ToString();
}

/// <summary>The seed's Properties 1 and 3 over real HTTP, a real registry and the embedded broker.</summary>
[Collection(SchemaCollection.Name)]
public sealed class SchemaProperties(SchemaFixture fixture)
{
    // Feature: kafka-event-streaming-platform, Property 1: Schema validation consistency
    // For any event submitted to the gateway, the event is validated against the schema registered
    // in the schema registry, and only events that match the schema are accepted: the gateway's
    // verdict equals the test's own knowledge of the event, accepted events are stored in a form
    // Confluent's deserializer reads back to the same event, refused ones name the schema version.
    [Property(MaxTest = 120, Arbitrary = [typeof(SchemaArbitraries)])]
    public async Task Property_1_only_events_matching_the_registered_schema_are_accepted(SchemaCase c)
    {
        var (status, body) = await fixture.PostJsonAsync(c.Path, c.Event);
        if (c.Departure == Departure.None)
        {
            Assert.True(status == 200, body?.ToJsonString());
            var value = fixture.ValueAt(c.Topic, body!["partition"]!.GetValue<int>(), body["offset"]!.GetValue<long>());
            var stored = await fixture.DecodeWithConfluentAsync(c.Topic, value);
            Assert.Equal(c.Event["event_id"]!.GetValue<string>(), stored["event_id"]);
            Assert.Equal(c.Event["user_id"]!.GetValue<string>(), stored["user_id"]);
            Assert.True(JsonNode.DeepEquals(c.Event["payload"], JsonNode.Parse((string)stored["payload"])));
        }
        else
        {
            Assert.True(status == 400, body?.ToJsonString());
            Assert.Equal("SCHEMA_VALIDATION_FAILED", body!["error_code"]!.GetValue<string>());
            Assert.Equal("payload-" + c.Event["event_type"]!.GetValue<string>(), body["details"]!["schema_subject"]!.GetValue<string>());
            Assert.Equal("1", body["details"]!["schema_version"]!.GetValue<string>());
            var named = (body["details"]!["missing_fields"]?.AsArray().Select(x => x!.GetValue<string>()) ?? [])
                .Concat(body["details"]!["invalid_fields"]?.AsObject().Select(p => p.Key) ?? []);
            Assert.Contains(named, f => f.StartsWith("payload", StringComparison.Ordinal));
        }
    }

    // Feature: kafka-event-streaming-platform, Property 3: Multi-format support
    // For any event in JSON, Avro or Protobuf format, the platform parses and processes it: the
    // same event sent in each of the three formats (Avro by Confluent's own serializer) is accepted
    // and stored the same one way, under the topic's schema id, and reads back the same.
    [Property(MaxTest = 100, Arbitrary = [typeof(SchemaArbitraries)])]
    public async Task Property_3_json_avro_and_protobuf_bodies_are_all_processed_alike(ValidSchemaEvent valid)
    {
        var c = valid.Case;
        var avro = await AvroBodyAsync(c);
        var protobuf = await ProtobufBodyAsync(c);

        var stored = new List<(int SchemaId, GenericRecord Record)>();
        foreach (var (body, contentType) in new[] { (Encoding.UTF8.GetBytes(c.Event.ToJsonString()), "application/json"), (avro, "avro/binary"), (protobuf, "application/x-protobuf") })
        {
            var (status, answer) = await fixture.PostAsync(c.Path, body, contentType);
            Assert.True(status == 200, contentType + ": " + answer?.ToJsonString());
            var value = fixture.ValueAt(c.Topic, answer!["partition"]!.GetValue<int>(), answer["offset"]!.GetValue<long>());
            stored.Add((System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)), await fixture.DecodeWithConfluentAsync(c.Topic, value)));
        }

        fixture.RegistryClient.ClearLatestCaches(); // Confluent's client keeps "latest" forever by default
        var latest = await fixture.RegistryClient.GetLatestSchemaAsync(c.Topic + "-value");
        Assert.All(stored, s => Assert.Equal(latest.Id, s.SchemaId));
        foreach (var (_, record) in stored)
        {
            Assert.Equal(c.Event["event_id"]!.GetValue<string>(), record["event_id"]);
            Assert.Equal(DateTimeOffset.Parse(c.Event["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), record["timestamp"]);
            Assert.Equal(c.Event["event_type"]!.GetValue<string>(), record["event_type"]);
            Assert.Equal(c.Event["user_id"]!.GetValue<string>(), record["user_id"]);
            Assert.True(JsonNode.DeepEquals(c.Event["payload"], JsonNode.Parse((string)record["payload"])), (string)record["payload"]);
        }
    }

    private async Task<byte[]> AvroBodyAsync(SchemaCase c)
    {
        // Confluent's serializer, with the seed's version 1 (no metadata field): the gateway resolves it.
        var schema = (Avro.RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
        var record = new GenericRecord(schema);
        record.Add("event_id", c.Event["event_id"]!.GetValue<string>());
        record.Add("timestamp", DateTimeOffset.Parse(c.Event["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
        record.Add("event_type", c.Event["event_type"]!.GetValue<string>());
        record.Add("user_id", c.Event["user_id"]!.GetValue<string>());
        record.Add("device_id", null);
        record.Add("payload", c.Event["payload"]!.ToJsonString());
        return await new AvroSerializer<GenericRecord>(fixture.RegistryClient, new AvroSerializerConfig { AutoRegisterSchemas = false })
            .SerializeAsync(record, new SerializationContext(MessageComponentType.Value, c.Topic));
    }

    private static int? _protobufId;

    private async Task<byte[]> ProtobufBodyAsync(SchemaCase c)
    {
        _protobufId ??= await fixture.RegistryClient.RegisterSchemaAsync("test-protobuf-event", new Schema(SeedProtobufSchemas.Event, ConfluentSchemaType.Protobuf));
        var schema = (ParsedProtobufSchema)ProtobufFormat.Instance.Parse(SeedProtobufSchemas.Event, []);
        var output = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(output, _protobufId.Value);
        ProtobufMessageIndexes.Write([0], output);
        using var document = JsonDocument.Parse(c.Event.ToJsonString());
        ProtobufJsonTranscoder.Encode(document.RootElement, schema.GetMessage([0]), output);
        return output.WrittenSpan.ToArray();
    }
}
