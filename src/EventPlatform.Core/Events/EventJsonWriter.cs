using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EventPlatform.Core.Events;

/// <summary>
/// Writes the canonical JSON form of an event: the form that goes into Kafka and that every
/// downstream part reads. Field names are the seed's snake_case; the timestamp is ISO 8601 UTC.
/// </summary>
/// <remarks>Thread-safe: each thread keeps its own writer and scratch buffer.</remarks>
public static class EventJsonWriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Ids and keys come back out as written; this JSON is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
        Indented = false,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes <paramref name="e"/> into <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, IngestEvent e)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        WriteCore(writer, e);
    }

    /// <summary>Returns the canonical JSON of <paramref name="e"/> as a new exactly-sized array.</summary>
    public static byte[] ToUtf8Bytes(IngestEvent e) => ToThreadBuffer(e).ToArray();

    /// <summary>
    /// Writes the canonical JSON of <paramref name="e"/> into this thread's scratch buffer and returns
    /// it: no allocation, valid only until the next call on the same thread (use it synchronously).
    /// </summary>
    public static ReadOnlySpan<byte> ToThreadBuffer(IngestEvent e)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        WriteCore(writer, e);
        return buffer.WrittenSpan;
    }

    /// <summary>
    /// Writes the canonical fields of <paramref name="e"/> into an object the caller has started,
    /// so that readers (the latest-events query, the WebSocket stream) can add fields of their own.
    /// </summary>
    public static void WriteFields(Utf8JsonWriter writer, IngestEvent e)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(e);
        writer.WriteString("event_id"u8, e.EventId);
        writer.WriteString("timestamp"u8, e.Timestamp.UtcDateTime);
        writer.WriteString("event_type"u8, e.EventType);
        WriteNullableString(writer, "user_id"u8, e.UserId);
        WriteNullableString(writer, "device_id"u8, e.DeviceId);
        writer.WritePropertyName("payload"u8);
        writer.WriteRawValue(e.Payload.Span, skipInputValidation: true);
        writer.WritePropertyName("metadata"u8);
        if (e.Metadata.IsEmpty)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(e.Metadata.Span, skipInputValidation: true);
        }
    }

    private static void WriteCore(Utf8JsonWriter writer, IngestEvent e)
    {
        writer.WriteStartObject();
        WriteFields(writer, e);
        writer.WriteEndObject();
        writer.Flush();
    }

    private static void WriteNullableString(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
