using System.Buffers;
using System.Buffers.Binary;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// A growable pooled byte buffer for protobuf encoding. Length-delimited values are written in
/// place: one byte is reserved for the length and the body is moved only when the length needs more.
/// </summary>
internal sealed class ProtoBufferWriter : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(256);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public void WriteTag(int fieldNumber, WireType wireType) => WriteVarint(((ulong)(uint)fieldNumber << 3) | (uint)wireType);

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        Length += ProtoWire.WriteVarint(value, _buffer.AsSpan(Length));
    }

    public void WriteFixed32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(Length), value);
        Length += 4;
    }

    public void WriteFixed64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(Length), value);
        Length += 8;
    }

    public void WriteLengthDelimited(ReadOnlySpan<byte> value)
    {
        WriteVarint((ulong)value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(Length));
        Length += value.Length;
    }

    /// <summary>Starts a length-delimited value; returns the mark to pass to <see cref="EndLengthDelimited"/>.</summary>
    public int BeginLengthDelimited()
    {
        Ensure(1);
        Length++;
        return Length;
    }

    public void EndLengthDelimited(int mark)
    {
        var bodyLength = Length - mark;
        var lengthSize = ProtoWire.VarintSize((ulong)bodyLength);
        if (lengthSize > 1)
        {
            Ensure(lengthSize - 1);
            _buffer.AsSpan(mark, bodyLength).CopyTo(_buffer.AsSpan(mark + lengthSize - 1));
            Length += lengthSize - 1;
        }

        ProtoWire.WriteVarint((ulong)bodyLength, _buffer.AsSpan(mark - 1));
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Ensure(int extra)
    {
        if (Length + extra <= _buffer.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + extra));
        _buffer.AsSpan(0, Length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
