using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Schemas.Compatibility;
using static EventPlatform.Schemas.Events.EventRecordEncoder;

namespace EventPlatform.Schemas.Events;

/// <summary>
/// Reads an Avro event written with a record of the event's own fields (the seed's shape, see
/// <see cref="EventRecordEncoder"/>) straight into the event model: strings become the model's
/// strings, <c>payload</c> and <c>metadata</c> stay slices of the message (no copy), no JSON is
/// written or parsed in between.
/// </summary>
/// <remarks>
/// Only an event that is plainly valid is taken here: every field within the event reader's rules,
/// payload and metadata one JSON object each, with no escapes, no duplicate names, no number that
/// could be out of range, not deep. Anything else (and any doubt) returns null, and the caller reads
/// the message the general way, which gives the exact error the event reader gives for JSON.
/// Immutable and thread-safe.
/// </remarks>
internal sealed class EventRecordDecoder
{
    // Room below the event reader's 64 levels (the event object and its field around the payload).
    private const int MaxPayloadDepth = 60;

    // Numbers of up to 15 significant characters without an exponent always fit a double.
    private const int MaxPlainNumberLength = 15;

    // Kept off the bounds so that the reader's own "now" (taken later) could not judge otherwise.
    private static readonly TimeSpan BoundsMargin = TimeSpan.FromSeconds(1);

    private readonly EventField[] _fields;

    private EventRecordDecoder(EventField[] fields) => _fields = fields;

    /// <summary>The decoder for a writer schema, or null when it is not made of the event's own fields only.</summary>
    public static EventRecordDecoder? TryCreate(AvroSchema schema) => Layout(schema) is { } fields ? new EventRecordDecoder(fields) : null;

    /// <summary>The event in <paramref name="datum"/> (the Avro binary, after the wire format's header), or null when it must be read the general way.</summary>
    public IngestEvent? TryDecode(ReadOnlyMemory<byte> datum, EventTimeBounds bounds)
    {
        var data = datum.Span;
        var position = 0;
        string? eventId = null, eventType = null, userId = null, deviceId = null;
        DateTimeOffset? timestamp = null;
        ReadOnlyMemory<byte> payload = default, metadata = default;
        foreach (var field in _fields)
        {
            switch (field)
            {
                case EventField.EventId:
                    if (!TryReadText(data, ref position, EventLimits.MaxEventIdLength, out eventId) || eventId is null)
                    {
                        return null;
                    }

                    break;
                case EventField.EventType:
                    if (!TryReadText(data, ref position, EventLimits.MaxEventTypeLength, out eventType) || eventType is null || !TopicRouter.IsLegalTopicName(eventType))
                    {
                        return null;
                    }

                    break;
                case EventField.Timestamp:
                    if (!TryReadLong(data, ref position, out var millis) || TimestampOf(millis, bounds) is not { } at)
                    {
                        return null;
                    }

                    timestamp = at;
                    break;
                case EventField.UserId:
                    if (!TryReadOptionalText(data, ref position, EventLimits.MaxUserIdLength, out userId))
                    {
                        return null;
                    }

                    break;
                case EventField.DeviceId:
                    if (!TryReadOptionalText(data, ref position, EventLimits.MaxDeviceIdLength, out deviceId))
                    {
                        return null;
                    }

                    break;
                case EventField.Payload:
                    if (!TryReadBytes(data, ref position, out var payloadRange) || !IsPlainObject(datum.Span[payloadRange]))
                    {
                        return null;
                    }

                    payload = datum[payloadRange];
                    break;
                case EventField.Metadata:
                    if (!TryReadLong(data, ref position, out var branch) || branch is not (0 or 1))
                    {
                        return null;
                    }

                    if (branch == 1)
                    {
                        if (!TryReadBytes(data, ref position, out var metadataRange) || !IsPlainObject(datum.Span[metadataRange]))
                        {
                            return null;
                        }

                        metadata = datum[metadataRange];
                    }

                    break;
            }
        }

        // Trailing bytes, or a required field the writer's record does not have: the general way says what is wrong.
        if (position != data.Length || eventId is null || eventType is null || timestamp is null || payload.IsEmpty)
        {
            return null;
        }

        return new IngestEvent
        {
            EventId = eventId,
            Timestamp = timestamp.Value,
            EventType = eventType,
            UserId = userId,
            DeviceId = deviceId,
            Payload = payload,
            Metadata = metadata,
        };
    }

    private static DateTimeOffset? TimestampOf(long millis, EventTimeBounds bounds)
    {
        if (millis < 0 || millis > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return null;
        }

        var at = DateTimeOffset.FromUnixTimeMilliseconds(millis);
        var now = bounds.Time.GetUtcNow();
        if (at > now && at - now > bounds.MaxAhead - BoundsMargin)
        {
            return null;
        }

        return bounds.MaxAge is { } maxAge && at < now && now - at > maxAge - BoundsMargin ? null : at;
    }

    /// <summary>A string of 1 to <paramref name="maxLength"/> characters (as the event reader counts them).</summary>
    private static bool TryReadText(ReadOnlySpan<byte> data, ref int position, int maxLength, out string? text)
    {
        text = null;
        if (!TryReadBytes(data, ref position, out var range) || !Utf8.IsValid(data[range]))
        {
            return false;
        }

        var bytes = data[range];
        if (bytes.IsEmpty || Encoding.UTF8.GetCharCount(bytes) > maxLength)
        {
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        return true;
    }

    /// <summary>A <c>["null","string"]</c> value; an empty string is no value, as the event reader takes it.</summary>
    private static bool TryReadOptionalText(ReadOnlySpan<byte> data, ref int position, int maxLength, out string? text)
    {
        text = null;
        if (!TryReadLong(data, ref position, out var branch) || branch is not (0 or 1))
        {
            return false;
        }

        if (branch == 0)
        {
            return true;
        }

        var start = position;
        if (TryReadLong(data, ref position, out var length) && length == 0)
        {
            return true;
        }

        position = start;
        return TryReadText(data, ref position, maxLength, out text);
    }

    private static bool TryReadBytes(ReadOnlySpan<byte> data, ref int position, out Range range)
    {
        range = default;
        if (!TryReadLong(data, ref position, out var length) || length < 0 || length > data.Length - position)
        {
            return false;
        }

        range = position..(position + (int)length);
        position += (int)length;
        return true;
    }

    /// <summary>Avro's zig-zag varint; false when truncated or longer than 64 bits.</summary>
    private static bool TryReadLong(ReadOnlySpan<byte> data, ref int position, out long value)
    {
        ulong bits = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                break;
            }

            var b = data[position++];
            bits |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = (long)(bits >> 1) ^ -(long)(bits & 1);
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="text"/> is one JSON object the event reader would keep as it is: valid
    /// UTF-8 without escapes, property names unique in each object, short plain numbers, not deep.
    /// </summary>
    private static bool IsPlainObject(ReadOnlySpan<byte> text)
    {
        var reader = new Utf8JsonReader(text, new JsonReaderOptions { MaxDepth = MaxPayloadDepth });
        Span<Range> names = stackalloc Range[32];
        Span<int> objectStarts = stackalloc int[MaxPayloadDepth + 1];
        var nameCount = 0;
        var depth = 0;
        try
        {
            // Nothing around the object either: the slice must be what the event reader would have kept.
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || reader.TokenStartIndex != 0)
            {
                return false;
            }

            objectStarts[depth++] = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        objectStarts[depth++] = nameCount;
                        break;
                    case JsonTokenType.EndObject:
                        nameCount = objectStarts[--depth];
                        break;
                    case JsonTokenType.StartArray or JsonTokenType.EndArray or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null:
                        break;
                    case JsonTokenType.PropertyName:
                        if (reader.ValueIsEscaped || !Utf8.IsValid(reader.ValueSpan) || nameCount == names.Length)
                        {
                            return false;
                        }

                        var start = (int)reader.TokenStartIndex + 1;
                        var name = start..(start + reader.ValueSpan.Length);
                        for (var i = objectStarts[depth - 1]; i < nameCount; i++)
                        {
                            if (text[names[i]].SequenceEqual(reader.ValueSpan))
                            {
                                return false;
                            }
                        }

                        names[nameCount++] = name;
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped || !Utf8.IsValid(reader.ValueSpan))
                        {
                            return false;
                        }

                        break;
                    case JsonTokenType.Number:
                        if (reader.ValueSpan.Length > MaxPlainNumberLength || reader.ValueSpan.IndexOfAny("eE"u8) >= 0)
                        {
                            return false;
                        }

                        break;
                    default:
                        return false;
                }
            }

            // The object must be the whole text (the reader stops at its end only when nothing follows).
            return depth == 0 && reader.BytesConsumed == text.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
