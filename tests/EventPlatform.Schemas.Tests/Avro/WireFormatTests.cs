using System.Buffers;
using EventPlatform.Schemas;
using FsCheck.Xunit;

namespace EventPlatform.Schemas.Tests.Avro;

public class WireFormatTests
{
    [Property(MaxTest = 200)]
    public void The_header_round_trips_any_schema_id(int schemaId, byte[] body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(buffer, schemaId);
        buffer.Write(body);

        Assert.True(ConfluentWireFormat.TryReadHeader(buffer.WrittenSpan, out var id, out var offset, out var error));
        Assert.Equal((schemaId, 5, null), (id, offset, error));
        Assert.Equal(body, buffer.WrittenSpan[offset..].ToArray());
    }

    [Fact]
    public void The_id_is_big_endian_after_the_magic_byte()
    {
        var header = new byte[5];
        ConfluentWireFormat.WriteHeader(header, 0x01020304);

        Assert.Equal("0001020304", Convert.ToHexString(header));
    }

    [Theory]
    [InlineData("", "0 bytes")]
    [InlineData("00000001", "4 bytes")]
    [InlineData("0100000001", "magic byte 1")]
    public void Short_input_and_a_wrong_magic_byte_are_explained(string hex, string expected)
    {
        Assert.False(ConfluentWireFormat.TryReadHeader(Convert.FromHexString(hex), out _, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => ConfluentWireFormat.ReadHeader(Convert.FromHexString(hex), out _));
    }
}
