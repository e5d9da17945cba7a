using System.Text.Json.Nodes;
using EventPlatform.Schemas.Protobuf;
using FsCheck.Xunit;
using static EventPlatform.Schemas.Tests.Protobuf.ProtobufTestSchemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

public class ProtobufTranscoderTests
{
    [Property(MaxTest = 200, Arbitrary = [typeof(ProtobufJsonGenerators)])]
    public void Random_events_survive_json_to_bytes_to_json(EventJson @event)
    {
        var bytes = Encode(@event.Case.Input, EventMessage);

        Assert.Equal(Compact(@event.Case.Expected), Compact(Decode(bytes, EventMessage)));
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(ProtobufJsonGenerators)])]
    public void Random_instances_of_every_field_kind_survive_json_to_bytes_to_json(SampleJson sample)
    {
        var bytes = Encode(sample.Case.Input, SampleMessage);

        Assert.Equal(Compact(sample.Case.Expected), Compact(Decode(bytes, SampleMessage)));
    }

    [Property(MaxTest = 300)]
    public void Arbitrary_bytes_decode_or_fail_with_a_decode_exception(byte[] bytes, bool sample)
    {
        try
        {
            Assert.NotNull(Decode(bytes, sample ? SampleMessage : EventMessage));
        }
        catch (ProtobufDecodeException)
        {
        }
    }

    [Fact]
    public void One_descriptor_is_shared_by_threads()
    {
        var inputs = Enumerable.Range(0, 64).Select(i => $$$"""{"event_id":"e{{{i}}}","payload":{"n":{{{i}}},"tags":["a","b"]}}""").ToArray();
        var fresh = Parse(SeedProtobufSchemas.Event).Messages[0];
        var results = new string[inputs.Length];

        Parallel.For(0, inputs.Length, i => results[i] = Decode(Encode(inputs[i], fresh), fresh));

        Assert.Equal(inputs, results);
    }

    [Fact]
    public void Field_names_are_the_declared_ones_and_camel_case_is_accepted_on_input()
    {
        var bytes = Encode("""{"eventId": "e1", "event_type": "click", "userId": "u"}""", EventMessage);

        Assert.Equal("""{"event_id":"e1","event_type":"click","user_id":"u"}""", Decode(bytes, EventMessage));
    }

    [Fact]
    public void Proto3_defaults_are_omitted_but_optional_fields_keep_an_explicit_empty_value()
    {
        var bytes = Encode("""{"event_id": "", "event_type": "", "user_id": ""}""", EventMessage);

        Assert.Equal("""{"user_id":""}""", Decode(bytes, EventMessage));
    }

    [Fact]
    public void Sixty_four_bit_integers_are_json_numbers_and_strings_are_accepted()
    {
        var bytes = Encode("""{"i64": "-9223372036854775808", "u64": 18446744073709551615, "s64": "5"}""", SampleMessage);

        Assert.Equal("""{"i64":-9223372036854775808,"u64":18446744073709551615,"s64":5}""", Decode(bytes, SampleMessage));
    }

    [Fact]
    public void Timestamps_with_an_offset_are_converted_to_utc()
    {
        var bytes = Encode("""{"timestamp": "2024-05-01T12:30:00.5+02:00"}""", EventMessage);

        Assert.Equal("""{"timestamp":"2024-05-01T10:30:00.500Z"}""", Decode(bytes, EventMessage));
    }

    [Fact]
    public void Unknown_fields_on_the_wire_are_skipped()
    {
        var known = Encode("""{"event_id": "e1"}""", EventMessage);
        // Field 99 as a varint, a fixed64, a length-delimited value and a group, then the known field again.
        byte[] unknown = [0x98, 0x06, 0x01, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9A, 0x06, 0x02, 0x61, 0x62, 0x9B, 0x06, 0x08, 0x01, 0x9C, 0x06];

        Assert.Equal("""{"event_id":"e1"}""", Decode([.. unknown, .. known], EventMessage));
    }

    [Fact]
    public void Repeated_scalars_are_read_packed_and_unpacked_and_a_split_message_is_merged()
    {
        // packed_ints = 20: packed [1, 2] then one unpacked 3; inners = 22 unaffected; elapsed = 42 split in two.
        byte[] bytes = [0xA2, 0x01, 0x02, 0x01, 0x02, 0xA0, 0x01, 0x03, 0xD2, 0x02, 0x02, 0x08, 0x05, 0xD2, 0x02, 0x02, 0x10, 0x01];

        Assert.Equal("""{"packed_ints":[1,2,3],"elapsed":"5.000000001s"}""", Decode(bytes, SampleMessage));
    }

    [Fact]
    public void The_last_value_of_a_scalar_and_the_last_member_of_a_oneof_win()
    {
        // s = 9 twice, then text = 30 and inner = 31 (inner last).
        byte[] bytes = [0x4A, 0x01, 0x61, 0x4A, 0x01, 0x62, 0xF2, 0x01, 0x01, 0x74, 0xFA, 0x01, 0x00];

        Assert.Equal("""{"s":"b","inner":{}}""", Decode(bytes, SampleMessage));
    }

    [Fact]
    public void A_struct_value_without_a_kind_is_null()
    {
        // payload = {"a": Value{}}
        byte[] bytes = [0x32, 0x07, 0x0A, 0x05, 0x0A, 0x01, 0x61, 0x12, 0x00];

        Assert.Equal("""{"payload":{"a":null}}""", Decode(bytes, EventMessage));
    }

    [Fact]
    public void Unknown_enum_numbers_are_written_as_numbers()
    {
        byte[] bytes = [0x70, 0x07];

        Assert.Equal("""{"color":7}""", Decode(bytes, SampleMessage));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x61 }, "event_id", "runs past the end")]
    [InlineData(new byte[] { 0x12, 0x02, 0x08 }, "timestamp", "runs past the end")]
    [InlineData(new byte[] { 0x12, 0x01, 0x08 }, "timestamp", "truncated varint")]
    [InlineData(new byte[] { 0x32, 0x10, 0x0A, 0x0E, 0x0A, 0x01, 0x61, 0x12, 0x09, 0x11, 0, 0, 0, 0, 0, 0, 0xF8, 0x7F }, "payload[\"a\"]", "NaN")]
    [InlineData(new byte[] { 0x1A, 0x02, 0xC3, 0x28 }, "event_type", "UTF-8")]
    [InlineData(new byte[] { 0x12, 0x02, 0x08, 0x7F, 0x12, 0x07, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20 }, "timestamp", "out of range")]
    public void Malformed_bytes_name_the_field(byte[] bytes, string path, string reason)
    {
        var error = Assert.Throws<ProtobufDecodeException>(() => Decode(bytes, EventMessage));

        Assert.Equal(path, error.FieldPath);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"nope": 1}""", "", "has no field 'nope'")]
    [InlineData("""{"i32": 3000000000}""", "i32", "out of range")]
    [InlineData("""{"inners": [{}, {"values": [1, "x"]}]}""", "inners[1].values[1]", "expected an integer")]
    [InlineData("""{"by_name": {"k": {"name": 5}}}""", "by_name[\"k\"].name", "expected a string")]
    [InlineData("""{"labels": {"one": "x"}}""", "labels[\"one\"]", "expected an integer")]
    [InlineData("""{"color": "BLUE"}""", "color", "has no value \"BLUE\"")]
    [InlineData("""{"text": "a", "inner": {}}""", "inner", "more than one field of oneof 'choice'")]
    [InlineData("""{"elapsed": "5 minutes"}""", "elapsed", "duration string")]
    [InlineData("""{"by": "***"}""", "by", "base64")]
    public void Json_that_does_not_fit_names_the_field(string json, string path, string reason)
    {
        var error = Assert.Throws<ProtobufEncodeException>(() => Encode(json, SampleMessage));

        Assert.Equal(path, error.FieldPath);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timestamps_must_be_rfc3339_strings()
    {
        var error = Assert.Throws<ProtobufEncodeException>(() => Encode("""{"timestamp": 1714557000}""", EventMessage));

        Assert.Equal("timestamp", error.FieldPath);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected_on_both_sides()
    {
        var deep = new JsonObject();
        var current = deep;
        for (var i = 0; i < 150; i++)
        {
            var next = new JsonObject();
            current["k"] = next;
            current = next;
        }

        var json = new JsonObject { ["payload"] = deep }.ToJsonString();
        var recursive = Parse("syntax = \"proto3\"; message R { R r = 1; }").Messages[0];
        byte[] bytes = [];
        for (var i = 0; i < 150; i++)
        {
            bytes = [0x0A, .. VarintBytes(bytes.Length), .. bytes];
        }

        Assert.Throws<ProtobufEncodeException>(() => Encode(json, EventMessage));
        var error = Assert.Throws<ProtobufDecodeException>(() => Decode(bytes, recursive));
        Assert.Contains("nested deeper", error.Message, StringComparison.Ordinal);
    }

    private static byte[] VarintBytes(int value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }
}
