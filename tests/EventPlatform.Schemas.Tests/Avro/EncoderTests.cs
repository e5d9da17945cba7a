using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Tests.Avro;

public class EncoderTests
{
    private static readonly AvroSchema Event = AvroSchema.Parse(SeedAvroSchemas.Event);

    private static readonly AvroSchema Order = AvroSchema.Parse("""
        {"type": "record", "name": "Order", "fields": [
          {"name": "id", "type": "long"},
          {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
            {"name": "name", "type": "string"},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
              {"name": "city", "type": "string"}, {"name": "zip", "type": "string"}]}}]}},
          {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
            {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
          {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
          {"name": "note", "type": ["null", "string"], "default": null}]}
        """);

    [Fact]
    public void A_gateway_event_with_a_timestamp_string_and_a_json_payload_is_encoded()
    {
        var bytes = Codec.Encode(Event, """
            {"event_id": "e-1", "timestamp": "2024-01-02T03:04:05.678Z", "event_type": "click",
             "user_id": "u-7", "payload": {"page": "/home", "n": [1, 2]}}
            """);

        Codec.AssertSameJson(
            """{"event_id": "e-1", "timestamp": 1704164645678, "event_type": "click", "user_id": "u-7", "device_id": null, "payload": "{\"page\":\"/home\",\"n\":[1,2]}"}""",
            Codec.Decode(Event, bytes));
    }

    [Fact]
    public void Strict_options_refuse_the_gateway_conventions()
    {
        var (_, result) = Codec.TryEncode(Event, """
            {"event_id": "e-1", "timestamp": "2024-01-02T03:04:05Z", "event_type": "click", "payload": {"a": 1}}
            """, AvroJsonEncoderOptions.Strict);

        Assert.Equal(["timestamp", "payload"], result.InvalidFields.Select(f => f.Path));
    }

    [Theory]
    [InlineData("timestamp-millis", "\"1970-01-01T00:00:01.5+01:00\"", -3598500L)]
    [InlineData("timestamp-micros", "\"1970-01-01T00:00:00.000002Z\"", 2L)]
    [InlineData("timestamp-nanos", "\"1970-01-01T00:00:00.0000001Z\"", 100L)]
    [InlineData("timestamp-millis", "\"1969-12-31T23:59:59.9995Z\"", -1L)]
    [InlineData("timestamp-millis", "\"2000-01-01T00:00:00\"", 946684800000L)]
    [InlineData("timestamp-millis", "12", 12L)]
    public void Timestamp_logical_types_take_rfc3339_strings_in_their_unit(string logicalType, string json, long expected)
    {
        var schema = AvroSchema.Parse($$"""{"type": "long", "logicalType": "{{logicalType}}"}""");

        var bytes = Codec.Encode(schema, json, AvroJsonEncoderOptions.Strict);

        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), Codec.Decode(schema, bytes));
    }

    [Fact]
    public void Every_missing_and_invalid_field_is_reported_with_its_path()
    {
        var (_, result) = Codec.TryEncode(Order, """
            {"id": "seven", "customer": {"address": {"zip": 12}},
             "lines": [{"sku": "a", "qty": 1}, {"qty": 2.5}, {"sku": "c", "qty": 99999999999}],
             "status": "SHIPPED", "note": 3}
            """);

        Assert.False(result.IsValid);
        Assert.Equal(["customer.name", "customer.address.city", "lines[1].sku"], result.MissingFields);
        Assert.Equal(["id", "customer.address.zip", "lines[1].qty", "lines[2].qty", "status", "note"], result.InvalidFields.Select(f => f.Path));
        Assert.Contains("SHIPPED", result.InvalidFields.Single(f => f.Path == "status").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_record_is_one_missing_field_and_a_wrong_root_is_reported_at_the_root()
    {
        var (_, missing) = Codec.TryEncode(Order, """{"id": 1, "lines": [], "status": "NEW"}""");
        var (_, root) = Codec.TryEncode(Order, "[1]");

        Assert.Equal(["customer"], missing.MissingFields);
        Assert.Equal("$", Assert.Single(root.InvalidFields).Path);
    }

    [Fact]
    public void Absent_fields_take_their_defaults()
    {
        var schema = AvroSchema.Parse("""
            {"type": "record", "name": "D", "fields": [
              {"name": "a", "type": "int", "default": 7},
              {"name": "b", "type": ["string", "null"], "default": "x"},
              {"name": "c", "type": "bytes", "default": "\u00ff"},
              {"name": "d", "type": {"type": "record", "name": "In", "fields": [{"name": "e", "type": "long", "default": -1}]}, "default": {}},
              {"name": "f", "type": {"type": "map", "values": "double"}, "default": {"k": 1.5}}]}
            """);

        var decoded = Codec.Decode(schema, Codec.Encode(schema, "{}"));

        Codec.AssertSameJson("""{"a": 7, "b": "x", "c": "/w==", "d": {"e": -1}, "f": {"k": 1.5}}""", decoded);
    }

    [Theory]
    [InlineData("1", "0002")]
    [InlineData("3000000000", "0280F882AD16")]
    [InlineData("1.5", "04000000000000F83F")]
    [InlineData("\"s\"", "060273")]
    [InlineData("null", "08")]
    [InlineData("true", "0A01")]
    public void Union_branches_follow_the_json_kind(string json, string hex)
    {
        var schema = AvroSchema.Parse("""["int", "long", "double", "string", "null", "boolean"]""");

        Assert.Equal(hex, Codec.Hex(Codec.Encode(schema, json)));
    }

    [Fact]
    public void A_union_picks_the_record_whose_required_fields_are_present()
    {
        var schema = AvroSchema.Parse("""
            [{"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]},
             {"type": "record", "name": "B", "fields": [{"name": "y", "type": "string"}]},
             {"type": "map", "values": "int"}]
            """);

        Assert.StartsWith("02", Codec.Hex(Codec.Encode(schema, """{"y": "v"}""")), StringComparison.Ordinal);
        Assert.StartsWith("04", Codec.Hex(Codec.Encode(schema, """{"z": 1}""")), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_properties_are_ignored_unless_rejected()
    {
        const string json = """{"event_id": "e", "timestamp": 1, "event_type": "t", "payload": "p", "extra": 1, "more": {}}""";

        Assert.True(Codec.TryEncode(Event, json).Result.IsValid);
        var strict = Codec.TryEncode(Event, json, new AvroJsonEncoderOptions { RejectUnknownFields = true }).Result;
        Assert.Equal(["extra", "more"], strict.InvalidFields.Select(f => f.Path));
    }

    [Theory]
    [InlineData("""{"type": "bytes"}""", "\"not base64!\"")]
    [InlineData("""{"type": "fixed", "name": "F", "size": 2}""", "\"AAAA\"")]
    [InlineData("""{"type": "int"}""", "2147483648")]
    [InlineData("""{"type": "float"}""", "1e39")]
    [InlineData("""{"type": "array", "items": "int"}""", "{}")]
    [InlineData("""{"type": "map", "values": "int"}""", """{"a": "1"}""")]
    [InlineData("""["null", "int"]""", "\"x\"")]
    public void Values_of_the_wrong_shape_are_invalid(string schema, string json) =>
        Assert.Single(Codec.TryEncode(AvroSchema.Parse(schema), json).Result.InvalidFields);

    [Fact]
    public void Escaped_strings_keys_and_non_finite_floats_round_trip()
    {
        var schema = AvroSchema.Parse("""{"type": "map", "values": ["string", "double"]}""");
        const string json = """{"k\u00e9\"y": "v\u00e9\n\ud83d\ude00", "n": "NaN", "i": "-Infinity"}""";

        Codec.AssertSameJson(json, Codec.Decode(schema, Codec.Encode(schema, json)));
    }

    [Fact]
    public void One_encoder_is_safe_to_share_between_threads()
    {
        var schema = AvroSchema.Parse(RichSchemas.Everything);
        var data = Enumerable.Range(0, 64).Select(seed => RandomDatum.Json(schema, seed)).ToArray();
        var expected = data.Select(json => Codec.Hex(Codec.Encode(schema, json))).ToArray();
        var encoder = new AvroJsonEncoder(schema);

        Parallel.For(0, 512, i =>
        {
            using var document = System.Text.Json.JsonDocument.Parse(data[i % 64]);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            Assert.True(encoder.Encode(document.RootElement, buffer).IsValid);
            Assert.Equal(expected[i % 64], Codec.Hex(buffer.WrittenSpan.ToArray()));
        });
    }

    [Fact]
    public void The_writer_primitives_write_the_specification_examples()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        AvroBinaryWriter.WriteLong(buffer, 0);
        AvroBinaryWriter.WriteLong(buffer, -1);
        AvroBinaryWriter.WriteLong(buffer, 1);
        AvroBinaryWriter.WriteLong(buffer, -64);
        AvroBinaryWriter.WriteLong(buffer, 64);
        AvroBinaryWriter.WriteString(buffer, "foo".AsSpan());
        AvroBinaryWriter.WriteString(buffer, "foo"u8);
        AvroBinaryWriter.WriteBlockCount(buffer, 1);
        AvroBinaryWriter.WriteEndOfBlocks(buffer);

        Assert.Equal("0001027F8001" + "06666F6F" + "06666F6F" + "0200", Codec.Hex(buffer.WrittenSpan.ToArray()));
    }
}
