using System.Buffers;
using System.Text;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Decodes Avro binary written with one schema and read with another (the specification's schema
/// resolution) into plain JSON: union values unwrapped, bytes and fixed as base64, enums as their
/// symbol, NaN and infinities as strings. Record fields come in the writer's order, then the
/// reader-only fields with their defaults. The resolution plan is made once, here; the decoder is
/// immutable and safe to share between threads (cache one per writer/reader pair).
/// </summary>
public sealed class AvroBinaryDecoder
{
    private readonly DecodeNode _root;

    /// <summary>Plans decoding of data written with <paramref name="writerSchema"/> as <paramref name="readerSchema"/>.</summary>
    /// <remarks>
    /// Parts the reader cannot read are not rejected here but when data needs them (as the
    /// specification says for union branches); check <see cref="AvroCompatibility.CanRead"/> first to refuse early.
    /// </remarks>
    public AvroBinaryDecoder(AvroSchema writerSchema, AvroSchema readerSchema, AvroDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writerSchema);
        ArgumentNullException.ThrowIfNull(readerSchema);
        WriterSchema = writerSchema;
        ReaderSchema = readerSchema;
        Options = options ?? AvroDecoderOptions.Default;
        _root = DecodePlan.Build(writerSchema, readerSchema);
    }

    /// <summary>Plans decoding with the schema the data was written with.</summary>
    public AvroBinaryDecoder(AvroSchema schema, AvroDecoderOptions? options = null)
        : this(schema, schema, options)
    {
    }

    /// <summary>The schema the data was written with.</summary>
    public AvroSchema WriterSchema { get; }

    /// <summary>The schema the data is read as.</summary>
    public AvroSchema ReaderSchema { get; }

    /// <summary>The decoding limits.</summary>
    public AvroDecoderOptions Options { get; }

    /// <summary>
    /// Decodes one datum, which must be all of <paramref name="datum"/>, as one JSON value written
    /// to <paramref name="output"/> (flushed). After an exception, what was written is incomplete.
    /// </summary>
    /// <exception cref="AvroDecodeException">The data is malformed or truncated, has bytes left over, or cannot be resolved.</exception>
    public void Decode(ReadOnlySpan<byte> datum, Utf8JsonWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var input = new AvroReader(datum, Options);
        _root.Read(ref input, output);
        if (input.Remaining != 0)
        {
            throw input.Malformed($"{input.Remaining} bytes after the end of the value");
        }

        output.Flush();
    }

    /// <summary><see cref="Decode(ReadOnlySpan{byte}, Utf8JsonWriter)"/> into compact JSON text.</summary>
    /// <exception cref="AvroDecodeException">The data is malformed or truncated, has bytes left over, or cannot be resolved.</exception>
    public string DecodeToJson(ReadOnlySpan<byte> datum)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, DecodeNode.JsonOptions))
        {
            Decode(datum, writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>Limits that keep hostile input from costing unbounded time or memory.</summary>
public sealed record AvroDecoderOptions
{
    /// <summary>The limits below at their defaults.</summary>
    public static AvroDecoderOptions Default { get; } = new();

    /// <summary>How deeply records, arrays and maps may nest.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>How many array items that take no bytes (nulls, empty records) one datum may hold.</summary>
    public long MaxZeroWidthItems { get; init; } = 1 << 20;
}

/// <summary>Avro binary data could not be decoded: malformed, truncated, or not readable with the reader schema.</summary>
public sealed class AvroDecodeException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public AvroDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public AvroDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AvroDecodeException()
    {
    }
}
