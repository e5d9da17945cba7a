extern alias gpb;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using gpb::Google.Protobuf;
using gpb::Google.Protobuf.WellKnownTypes;
using static EventPlatform.Schemas.Tests.Protobuf.ProtobufTestSchemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

/// <summary>A Timestamp string and a Struct object, as JSON.</summary>
public sealed record TimedPayload(string Timestamp, string Payload)
{
    public override string ToString() => $"{Timestamp} {Payload}";
}

public static class TimedPayloads
{
    public static Arbitrary<TimedPayload> Values() => Arb.From(
        from timestamp in ProtobufJsonGenerators.Timestamp()
        from payload in ProtobufJsonGenerators.Struct(3, emptyKeys: false)
        select new TimedPayload(timestamp, payload.ToJsonString()));
}

/// <summary>Our codec against Google.Protobuf's own well-known types, JSON formatter and parser.</summary>
public class ProtobufGoogleCrossCheckTests
{
    [Property(MaxTest = 200, Arbitrary = [typeof(TimedPayloads)])]
    public void Events_written_by_google_protobuf_decode_to_what_its_json_formatter_writes(TimedPayload value)
    {
        var timestamp = JsonParser.Default.Parse<Timestamp>(JsonSerializer.Serialize(value.Timestamp));
        var payload = JsonParser.Default.Parse<Struct>(value.Payload);
        var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString("e-1");
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(timestamp);
        output.WriteTag(6, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(payload);
        output.Flush();

        var decoded = JsonNode.Parse(Decode(bytes.ToArray(), EventMessage))!.AsObject();

        Assert.Equal("e-1", (string?)decoded["event_id"]);
        Assert.Equal(JsonFormatter.Default.Format(timestamp), decoded["timestamp"]!.ToJsonString());
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse(JsonFormatter.Default.Format(payload)).RootElement,
            JsonDocument.Parse(decoded["payload"]!.ToJsonString()).RootElement));
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(TimedPayloads)])]
    public void Events_we_encode_parse_with_google_protobuf_as_its_json_parser_reads_them(TimedPayload value)
    {
        var json = $$"""{"event_id": "e-1", "timestamp": {{JsonSerializer.Serialize(value.Timestamp)}}, "metadata": {{value.Payload}}}""";
        Timestamp? timestamp = null;
        Struct? metadata = null;
        string? id = null;

        var input = new CodedInputStream(Encode(json, EventMessage));
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: id = input.ReadString(); break;
                case 2: timestamp = new Timestamp(); input.ReadMessage(timestamp); break;
                case 7: metadata = new Struct(); input.ReadMessage(metadata); break;
                default: input.SkipLastField(); break;
            }
        }

        Assert.Equal("e-1", id);
        Assert.Equal(JsonParser.Default.Parse<Timestamp>(JsonSerializer.Serialize(value.Timestamp)), timestamp);
        Assert.Equal(JsonParser.Default.Parse<Struct>(value.Payload), metadata);
    }

    [Theory]
    [InlineData(0L, 0)]
    [InlineData(-1L, -500000000)]
    [InlineData(3L, 1000)]
    [InlineData(315576000000L, 999999999)]
    public void Durations_read_and_write_as_google_protobuf_formats_them(long seconds, int nanos)
    {
        var duration = new Duration { Seconds = seconds, Nanos = nanos };
        var message = new MemoryStream();
        var output = new CodedOutputStream(message);
        output.WriteTag(42, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(duration);
        output.Flush();
        var formatted = JsonFormatter.Default.Format(duration);

        Assert.Equal($$"""{"elapsed":{{formatted}}}""", Decode(message.ToArray(), SampleMessage));
        Assert.Equal(message.ToArray(), Encode($$"""{"elapsed":{{formatted}}}""", SampleMessage));
    }

    [Fact]
    public void Wrappers_and_packed_repeated_fields_match_google_protobuf_bytes()
    {
        var message = new MemoryStream();
        var output = new CodedOutputStream(message);
        output.WriteTag(20, WireFormat.WireType.LengthDelimited);
        output.WriteLength(CodedOutputStream.ComputeInt32Size(-1) + CodedOutputStream.ComputeInt32Size(300));
        output.WriteInt32(-1);
        output.WriteInt32(300);
        output.WriteTag(40, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(new Int64Value { Value = long.MinValue });
        output.WriteTag(41, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(new StringValue { Value = "" });
        output.Flush();
        const string Json = """{"packed_ints":[-1,300],"maybe_count":-9223372036854775808,"maybe_name":""}""";

        Assert.Equal(Json, Decode(message.ToArray(), SampleMessage));
        Assert.Equal(message.ToArray(), Encode(Json, SampleMessage));
    }
}
