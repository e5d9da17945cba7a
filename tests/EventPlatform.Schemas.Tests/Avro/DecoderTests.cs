using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Tests.Avro;

public class DecoderTests
{
    private static AvroSchema S(string json) => AvroSchema.Parse(json);

    [Fact]
    public void Old_events_read_with_the_evolved_schema_get_the_metadata_default()
    {
        var writer = S(SeedAvroSchemas.Event);
        var bytes = Codec.Encode(writer, """{"event_id": "e", "timestamp": 5, "event_type": "t", "payload": "{}"}""");

        var json = Codec.Decode(writer, S(SeedAvroSchemas.EventWithMetadata), bytes);

        Assert.Equal("""{"event_id":"e","timestamp":5,"event_type":"t","user_id":null,"device_id":null,"payload":"{}","metadata":null}""", json);
    }

    [Fact]
    public void A_field_renamed_with_an_alias_reads_the_old_name()
    {
        var writer = S("""{"type": "record", "name": "R", "fields": [{"name": "old", "type": "int"}, {"name": "x", "type": "string"}]}""");
        var reader = S("""{"type": "record", "name": "R", "fields": [{"name": "x", "type": "string"}, {"name": "new", "aliases": ["old"], "type": "long"}]}""");

        Assert.Equal("""{"new":3,"x":"a"}""", Codec.Decode(writer, reader, Codec.Encode(writer, """{"old": 3, "x": "a"}""")));
    }

    [Fact]
    public void Strings_and_bytes_promote_to_each_other()
    {
        var bytes = Codec.Encode(S("\"string\""), "\"hé\"");

        Assert.Equal("\"aMOp\"", Codec.Decode(S("\"string\""), S("\"bytes\""), bytes));
        Assert.Equal("\"hé\"", Codec.Decode(S("\"bytes\""), S("\"string\""), bytes));
    }

    [Fact]
    public void An_unknown_enum_symbol_without_a_reader_default_fails_only_when_it_comes()
    {
        var writer = S("""{"type": "enum", "name": "E", "symbols": ["A", "B"]}""");
        var reader = S("""{"type": "enum", "name": "E", "symbols": ["A"]}""");
        var decoder = new AvroBinaryDecoder(writer, reader);

        Assert.Equal("\"A\"", decoder.DecodeToJson([0]));
        Assert.Contains("'B'", Assert.Throws<AvroDecodeException>(() => decoder.DecodeToJson([2])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_writer_union_read_as_a_non_union_fails_only_for_the_branch_that_does_not_resolve()
    {
        var writer = S("""["null", "int"]""");
        var decoder = new AvroBinaryDecoder(writer, S("\"long\""));

        Assert.Equal("21", decoder.DecodeToJson(Codec.Encode(writer, "21")));
        Assert.Throws<AvroDecodeException>(() => decoder.DecodeToJson(Codec.Encode(writer, "null")));
    }

    [Fact]
    public void A_reader_field_without_default_that_the_writer_lacks_fails()
    {
        var writer = S("""{"type": "record", "name": "R", "fields": []}""");
        var reader = S("""{"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}""");

        Assert.Contains("'x'", Assert.Throws<AvroDecodeException>(() => Codec.Decode(writer, reader, [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blocks_with_negative_counts_and_byte_sizes_are_read_and_skipped()
    {
        var writer = S("""{"type": "record", "name": "R", "fields": [{"name": "skip", "type": {"type": "array", "items": "int"}}, {"name": "keep", "type": {"type": "map", "values": "int"}}]}""");
        var reader = S("""{"type": "record", "name": "R", "fields": [{"name": "keep", "type": {"type": "map", "values": "int"}}]}""");

        // skip: a block of -2 items in 2 bytes [1, 2], then end; keep: a block of -1 entry in 3 bytes {"a": 3}, then end.
        byte[] bytes = [0x03, 0x04, 0x02, 0x04, 0x00, 0x01, 0x06, 0x02, 0x61, 0x06, 0x00];

        Assert.Equal("""{"keep":{"a":3}}""", Codec.Decode(writer, reader, bytes));
        Assert.Equal("""{"skip":[1,2],"keep":{"a":3}}""", Codec.Decode(writer, bytes));
    }

    [Theory]
    [InlineData("\"string\"", "01")]
    [InlineData("\"string\"", "0661")]
    [InlineData("\"string\"", "02FF")]
    [InlineData("\"boolean\"", "02")]
    [InlineData("\"long\"", "FFFFFFFFFFFFFFFFFFFF01")]
    [InlineData("\"int\"", "8080808010")]
    [InlineData("\"int\"", "0000")]
    [InlineData("""{"type": "array", "items": "long"}""", "FEFFFFFFFFFFFFFFFF01")]
    [InlineData("""{"type": "array", "items": "null"}""", "FEFFFFFFFFFFFFFFFF0100")]
    [InlineData("""{"type": "array", "items": "int"}""", "0102")]
    [InlineData("""["null", "int"]""", "04")]
    [InlineData("""["null", "int"]""", "01")]
    [InlineData("""{"type": "enum", "name": "E", "symbols": ["A"]}""", "02")]
    [InlineData("""{"type": "fixed", "name": "F", "size": 3}""", "0102")]
    public void Malformed_input_is_a_decode_exception(string schema, string hex) =>
        Assert.Throws<AvroDecodeException>(() => Codec.Decode(S(schema), Convert.FromHexString(hex)));

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected()
    {
        var schema = S(RichSchemas.LinkedList);
        var json = "{\"value\": 0, \"next\": null}";
        for (var i = 0; i < 10; i++)
        {
            json = $$"""{"value": {{i}}, "next": {{json}}}""";
        }

        var bytes = Codec.Encode(schema, json);

        Assert.Throws<AvroDecodeException>(() => new AvroBinaryDecoder(schema, new AvroDecoderOptions { MaxDepth = 5 }).DecodeToJson(bytes));
        Codec.AssertSameJson(json.Replace("\"next\"", "\"label\": null, \"next\"", StringComparison.Ordinal), Codec.Decode(schema, bytes));
    }

    [Fact]
    public void Floats_that_json_cannot_hold_are_written_as_strings()
    {
        var schema = S("""{"type": "array", "items": "float"}""");
        byte[] bytes = [0x06, 0x00, 0x00, 0xC0, 0x7F, 0x00, 0x00, 0x80, 0x7F, 0x00, 0x00, 0x80, 0xFF, 0x00];

        Assert.Equal("""["NaN","Infinity","-Infinity"]""", Codec.Decode(schema, bytes));
    }

    [Fact]
    public void One_decoder_is_safe_to_share_between_threads()
    {
        var schema = S(RichSchemas.Everything);
        var data = Enumerable.Range(0, 64).Select(seed => RandomDatum.Json(schema, seed)).ToArray();
        var bytes = data.Select(json => Codec.Encode(schema, json)).ToArray();
        var decoder = new AvroBinaryDecoder(schema);

        Parallel.For(0, 512, i => Codec.AssertSameJson(data[i % 64], decoder.DecodeToJson(bytes[i % 64])));
    }
}
