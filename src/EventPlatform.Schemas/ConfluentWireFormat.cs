using System.Buffers;
using System.Buffers.Binary;

namespace EventPlatform.Schemas;

/// <summary>
/// Confluent's framing of a serialized message: the magic byte 0, the schema id as a 4-byte
/// big-endian integer, then the body (for Avro, the binary datum).
/// </summary>
public static class ConfluentWireFormat
{
    /// <summary>The first byte of every framed message.</summary>
    public const byte MagicByte = 0;

    /// <summary>The header's length: magic byte and schema id.</summary>
    public const int HeaderLength = 5;

    /// <summary>Writes the header into the first <see cref="HeaderLength"/> bytes of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, int schemaId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HeaderLength, nameof(destination));
        destination[0] = MagicByte;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], schemaId);
    }

    /// <summary>Writes the header to <paramref name="output"/>; the body follows.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, int schemaId)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteHeader(output.GetSpan(HeaderLength), schemaId);
        output.Advance(HeaderLength);
    }

    /// <summary>Reads the header of a framed message.</summary>
    /// <param name="message">The whole message.</param>
    /// <param name="schemaId">The schema id, when the header is valid.</param>
    /// <param name="bodyOffset">Where the body starts (<see cref="HeaderLength"/>), when valid.</param>
    /// <param name="error">Why the header is not valid, else null.</param>
    public static bool TryReadHeader(ReadOnlySpan<byte> message, out int schemaId, out int bodyOffset, out string? error)
    {
        schemaId = 0;
        bodyOffset = 0;
        if (message.Length < HeaderLength)
        {
            error = $"The message has {message.Length} bytes, fewer than the {HeaderLength} of the Confluent header (magic byte and schema id).";
            return false;
        }

        if (message[0] != MagicByte)
        {
            error = $"Unknown magic byte {message[0]} (expected {MagicByte}): the message is not in Confluent's wire format.";
            return false;
        }

        schemaId = BinaryPrimitives.ReadInt32BigEndian(message[1..]);
        bodyOffset = HeaderLength;
        error = null;
        return true;
    }

    /// <summary>Reads the header of a framed message and returns the schema id.</summary>
    /// <exception cref="FormatException">The message is too short or does not start with the magic byte.</exception>
    public static int ReadHeader(ReadOnlySpan<byte> message, out int bodyOffset) =>
        TryReadHeader(message, out var schemaId, out bodyOffset, out var error) ? schemaId : throw new FormatException(error);
}
