using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Events;

/// <summary>
/// Encodes the event model straight into the Avro binary of a topic's record schema, when that
/// schema is made only of the event's own fields in the seed's shapes (<c>event_id</c>,
/// <c>event_type</c>: string; <c>timestamp</c>: long, epoch milliseconds; <c>user_id</c>,
/// <c>device_id</c>, <c>metadata</c>: <c>["null","string"]</c>; <c>payload</c>: string holding JSON
/// text). Such a record cannot refuse a valid event, so there is nothing to report: no event JSON is
/// written, parsed or walked. Any other schema (fields with other types, extra fields with
/// defaults) keeps the general JSON encoder, whose result this one matches byte for byte.
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
internal sealed class EventRecordEncoder
{
    // The JSON text of payload and metadata, written as the general encoder writes it (compact, relaxed escaping).
    private static readonly JsonWriterOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic]
    private static CompactText? t_text;

    private readonly EventField[] _fields;

    private EventRecordEncoder(EventField[] fields) => _fields = fields;

    /// <summary>Which of the event's fields a record field is.</summary>
    internal enum EventField
    {
        EventId,
        EventType,
        Timestamp,
        UserId,
        DeviceId,
        Payload,
        Metadata,
    }

    /// <summary>The encoder for <paramref name="schema"/>, or null when it is not made of the event's own fields only.</summary>
    public static EventRecordEncoder? TryCreate(AvroSchema schema) => Layout(schema) is { } fields ? new EventRecordEncoder(fields) : null;

    /// <summary>The record's fields as the event's, in order, or null when it has any other field or shape.</summary>
    internal static EventField[]? Layout(AvroSchema schema)
    {
        if (schema is not AvroRecordSchema record)
        {
            return null;
        }

        var fields = new EventField[record.Fields.Count];
        for (var i = 0; i < fields.Length; i++)
        {
            var field = record.Fields[i];
            EventField? known = field.Name switch
            {
                "event_id" when IsString(field.Type) => EventField.EventId,
                "event_type" when IsString(field.Type) => EventField.EventType,
                "timestamp" when IsMillis(field.Type) => EventField.Timestamp,
                "user_id" when IsOptionalString(field.Type) => EventField.UserId,
                "device_id" when IsOptionalString(field.Type) => EventField.DeviceId,
                "payload" when IsString(field.Type) => EventField.Payload,
                "metadata" when IsOptionalString(field.Type) => EventField.Metadata,
                _ => null,
            };
            if (known is not { } f || Array.IndexOf(fields, f, 0, i) >= 0)
            {
                return null;
            }

            fields[i] = f;
        }

        return fields;
    }

    /// <summary>Writes the Avro binary of <paramref name="e"/>.</summary>
    public void Encode(IngestEvent e, IBufferWriter<byte> output)
    {
        foreach (var field in _fields)
        {
            switch (field)
            {
                case EventField.EventId:
                    AvroBinaryWriter.WriteString(output, e.EventId.AsSpan());
                    break;
                case EventField.EventType:
                    AvroBinaryWriter.WriteString(output, e.EventType.AsSpan());
                    break;
                case EventField.Timestamp:
                    // The reader refuses times before 1970, so truncating is the floor the general encoder takes.
                    AvroBinaryWriter.WriteLong(output, (e.Timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond);
                    break;
                case EventField.UserId:
                    WriteOptional(output, e.UserId);
                    break;
                case EventField.DeviceId:
                    WriteOptional(output, e.DeviceId);
                    break;
                case EventField.Payload:
                    AvroBinaryWriter.WriteString(output, Compact(e.Payload.Span));
                    break;
                case EventField.Metadata when e.Metadata.IsEmpty:
                    AvroBinaryWriter.WriteUnionIndex(output, 0);
                    break;
                case EventField.Metadata:
                    AvroBinaryWriter.WriteUnionIndex(output, 1);
                    AvroBinaryWriter.WriteString(output, Compact(e.Metadata.Span));
                    break;
            }
        }

        void WriteOptional(IBufferWriter<byte> output, string? value)
        {
            // Only ["null","string"] is taken (IsOptionalString): null is branch 0.
            if (value is null)
            {
                AvroBinaryWriter.WriteUnionIndex(output, 0);
            }
            else
            {
                AvroBinaryWriter.WriteUnionIndex(output, 1);
                AvroBinaryWriter.WriteString(output, value.AsSpan());
            }
        }
    }

    /// <summary>
    /// Rewrites JSON text compactly, token by token from a reader over the event's own slice: what
    /// the general encoder stores for a JSON object in a string field (its element written back out).
    /// The reader already checked the text, so nothing here can fail.
    /// </summary>
    private static ReadOnlySpan<byte> Compact(ReadOnlySpan<byte> json)
    {
        var text = t_text ??= new CompactText();
        var writer = text.Start();
        // The event reader allowed 64 levels for the whole event: its payload is shallower.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    break;
                case JsonTokenType.PropertyName:
                    writer.WritePropertyName(reader.ValueIsEscaped ? text.Unescape(ref reader) : reader.ValueSpan);
                    break;
                case JsonTokenType.String:
                    writer.WriteStringValue(reader.ValueIsEscaped ? text.Unescape(ref reader) : reader.ValueSpan);
                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True:
                    writer.WriteBooleanValue(true);
                    break;
                case JsonTokenType.False:
                    writer.WriteBooleanValue(false);
                    break;
                case JsonTokenType.Null:
                    writer.WriteNullValue();
                    break;
            }
        }

        return text.Written;
    }

    private static bool IsString(AvroSchema type) => type is AvroPrimitiveSchema { TypeName: "string", LogicalType: null };

    private static bool IsMillis(AvroSchema type) =>
        type is AvroPrimitiveSchema { TypeName: "long" } primitive && (primitive.LogicalType is null || primitive.LogicalType.Name == "timestamp-millis");

    private static bool IsOptionalString(AvroSchema type) =>
        type is AvroUnionSchema { Branches: [AvroPrimitiveSchema { TypeName: "null" }, var second] } && IsString(second);

    /// <summary>This thread's writer for compact JSON text; a buffer grown by a huge payload is let go.</summary>
    private sealed class CompactText
    {
        private const int KeepAtMost = 64 * 1024;
        private ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;

        private byte[] _unescaped = new byte[256];

        public CompactText() => _writer = new Utf8JsonWriter(_buffer, CompactJson);

        /// <summary>The current string token without its escapes (unescaping never lengthens it).</summary>
        public ReadOnlySpan<byte> Unescape(ref Utf8JsonReader reader)
        {
            if (_unescaped.Length < reader.ValueSpan.Length)
            {
                _unescaped = new byte[Math.Max(reader.ValueSpan.Length, _unescaped.Length * 2)];
            }

            return _unescaped.AsSpan(0, reader.CopyString(_unescaped));
        }

        public Utf8JsonWriter Start()
        {
            if (_buffer.Capacity > KeepAtMost)
            {
                _buffer = new ArrayBufferWriter<byte>(1024);
            }

            if (_unescaped.Length > KeepAtMost)
            {
                _unescaped = new byte[256];
            }

            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            return _writer;
        }

        public ReadOnlySpan<byte> Written
        {
            get
            {
                _writer.Flush();
                return _buffer.WrittenSpan;
            }
        }
    }
}
