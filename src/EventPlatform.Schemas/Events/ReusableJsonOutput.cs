using System.Buffers;
using System.Text.Json;

namespace EventPlatform.Schemas.Events;

/// <summary>
/// A JSON writer and its buffer, kept per thread by the decoders on the publish path so that an
/// event costs its result array and nothing else. Use only between awaits; the users keep one each
/// (one decoder's output is the next one's input). A buffer grown by a huge event is let go.
/// </summary>
internal sealed class ReusableJsonOutput
{
    private const int KeepAtMost = 64 * 1024;
    private ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    public ReusableJsonOutput() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary>The writer, emptied.</summary>
    public Utf8JsonWriter Start()
    {
        if (_buffer.Capacity > KeepAtMost)
        {
            _buffer = new ArrayBufferWriter<byte>(1024);
        }

        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    /// <summary>What was written so far (valid until the next <see cref="Start"/>).</summary>
    public ReadOnlySpan<byte> Written => WrittenMemory.Span;

    /// <inheritdoc cref="Written"/>
    public ReadOnlyMemory<byte> WrittenMemory
    {
        get
        {
            _writer.Flush();
            return _buffer.WrittenMemory;
        }
    }

    public byte[] ToArray() => Written.ToArray();
}
