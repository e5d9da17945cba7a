using System.Buffers;
using System.Buffers.Binary;
using EventPlatform.Schemas.Protobuf;
using FsCheck.Xunit;
using static EventPlatform.Schemas.Tests.Protobuf.ProtobufTestSchemas;

namespace EventPlatform.Schemas.Tests.Protobuf;

public class ProtobufMessageIndexesTests
{
    private const string Nested = """
        syntax = "proto3";
        package test.idx;
        message A { message A1 {} message A2 { message Deep {} } map<string, int32> m = 1; message A3 {} }
        message B {}
        """;

    [Property(MaxTest = 300)]
    public void Message_indexes_round_trip(int[] indexes, byte[] payload)
    {
        var output = new ArrayBufferWriter<byte>();
        ProtobufMessageIndexes.Write(indexes, output);
        output.Write(payload);

        var read = ProtobufMessageIndexes.Read(output.WrittenSpan, out var back);

        // The empty list is written like [0]: the first message.
        Assert.Equal(indexes.Length == 0 ? [0] : indexes, back);
        Assert.Equal(ProtobufMessageIndexes.GetSize(indexes), read);
        Assert.Equal(payload, output.WrittenSpan[read..].ToArray());
    }

    [Theory]
    [InlineData(new[] { 0 }, new byte[] { 0 })]
    [InlineData(new[] { 1 }, new byte[] { 2, 2 })]
    [InlineData(new[] { 0, 2 }, new byte[] { 4, 0, 4 })]
    [InlineData(new[] { 64 }, new byte[] { 2, 0x80, 0x01 })]
    public void Indexes_are_zigzag_varints_with_a_single_zero_for_the_first_message(int[] indexes, byte[] expected)
    {
        var buffer = new byte[16];

        var written = ProtobufMessageIndexes.Write(indexes, buffer);

        Assert.Equal(expected, buffer[..written]);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 4, 0 })]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[] { 1 })]
    [InlineData(new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Truncated_or_impossible_indexes_are_rejected(byte[] bytes)
    {
        Assert.Throws<ProtobufDecodeException>(() => ProtobufMessageIndexes.Read(bytes, out _));
    }

    [Fact]
    public void Every_message_is_found_by_its_indexes_and_its_indexes_by_its_name()
    {
        var schema = Parse(Nested);
        var all = Flatten(schema.Messages).ToList();

        foreach (var message in all)
        {
            var indexes = schema.GetMessageIndexes(message.FullName)!;
            Assert.Same(message, schema.GetMessage([.. indexes]));
        }

        Assert.Equal([0, 1, 0], schema.GetMessageIndexes("test.idx.A.A2.Deep"));
        // The map field's entry message counts, as in protoc's descriptors.
        Assert.Equal([0, 3], schema.GetMessageIndexes("test.idx.A.A3"));
        Assert.Equal([1], schema.GetMessageIndexes(".test.idx.B"));
        Assert.Null(schema.GetMessageIndexes("test.idx.A.A"));
        Assert.Equal(7, all.Count);
    }

    [Fact]
    public void Indexes_that_point_nowhere_are_rejected()
    {
        var schema = Parse(Nested);

        Assert.Throws<ProtobufDecodeException>(() => schema.GetMessage([2]));
        Assert.Throws<ProtobufDecodeException>(() => schema.GetMessage([1, 0]));
    }

    [Fact]
    public void A_confluent_framed_event_is_decoded_with_the_message_its_indexes_name()
    {
        var schema = Parse(SeedProtobufSchemas.Event + "message Other { string x = 1; }");
        var payload = Encode("""{"x": "hello"}""", schema.Messages[1]);
        var framed = new ArrayBufferWriter<byte>();
        framed.Write<byte>([0, 0, 0, 0, 42]);
        ProtobufMessageIndexes.Write([1], framed);
        framed.Write(payload);

        var (schemaId, body) = ReadHeader(framed.WrittenSpan.ToArray());
        var read = ProtobufMessageIndexes.Read(body, out var indexes);

        Assert.Equal(42, schemaId);
        Assert.Equal("""{"x":"hello"}""", Decode(body.AsSpan(read), schema.GetMessage([.. indexes])));
    }

    /// <summary>Confluent's header: magic byte 0, then the schema id as a 4-byte big-endian integer.</summary>
    private static (int SchemaId, byte[] Body) ReadHeader(byte[] message) =>
        message[0] == 0 ? (BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(1, 4)), message[5..]) : throw new InvalidDataException("magic byte");

    private static IEnumerable<ProtobufMessageDescriptor> Flatten(IEnumerable<ProtobufMessageDescriptor> messages) =>
        messages.SelectMany(m => Flatten(m.NestedMessages).Prepend(m));
}
