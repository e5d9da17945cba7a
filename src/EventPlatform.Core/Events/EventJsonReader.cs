using System.Text.Json;
using EventPlatform.Core.Routing;

namespace EventPlatform.Core.Events;

/// <summary>The outcome of reading one event: either the event or the reasons it was refused.</summary>
public readonly record struct EventReadResult(IngestEvent? Event, EventValidationError? Error)
{
    public bool IsValid => Event is not null;
}

/// <summary>The outcome of reading a request body that holds one event.</summary>
public readonly record struct SingleEventBody(EventReadResult Result, JsonSyntaxError? SyntaxError);

/// <summary>The outcome of reading a request body that holds a JSON array of events.</summary>
public readonly record struct EventBatchBody(
    IReadOnlyList<EventReadResult> Results,
    JsonSyntaxError? SyntaxError,
    bool NotAnArray,
    bool TooMany);

/// <summary>
/// Reads the seed's <c>Event</c> model from UTF-8 JSON with <see cref="Utf8JsonReader"/>.
/// </summary>
/// <remarks>
/// Why not a deserializer: a deserializer stops at the first bad field, and we owe the client
/// the whole list of missing and mistyped fields. Reading by hand also lets <c>payload</c> and
/// <c>metadata</c> stay as raw slices of the request body, copied once, into the Kafka record.
/// Unknown properties are ignored (as pydantic does); a property given twice is refused.
/// All members are thread-safe.
/// </remarks>
public static class EventJsonReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    /// <summary>Reads a body whose root is one event object.</summary>
    public static SingleEventBody ReadSingle(ReadOnlyMemory<byte> json)
    {
        var reader = new Utf8JsonReader(json.Span, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return new SingleEventBody(default, new JsonSyntaxError("The request body is empty.", null, null));
            }

            var result = ReadValue(ref reader, json);
            if (reader.Read())
            {
                return new SingleEventBody(default, SyntaxErrorAt(ref reader, "Unexpected data after the end of the JSON value."));
            }

            return new SingleEventBody(result, null);
        }
        catch (JsonException ex)
        {
            return new SingleEventBody(default, new JsonSyntaxError(ex.Message, ex.LineNumber, ex.BytePositionInLine));
        }
    }

    /// <summary>
    /// Reads a body whose root is an array of events. Each slot is judged on its own: a bad
    /// event does not spoil the others. Stops early when the array holds more than
    /// <paramref name="maxEvents"/> items.
    /// </summary>
    public static EventBatchBody ReadBatch(ReadOnlyMemory<byte> json, int maxEvents)
    {
        var reader = new Utf8JsonReader(json.Span, ReaderOptions);
        var results = new List<EventReadResult>();
        try
        {
            if (!reader.Read())
            {
                return new EventBatchBody(results, new JsonSyntaxError("The request body is empty.", null, null), false, false);
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                return new EventBatchBody(results, null, NotAnArray: true, TooMany: false);
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (results.Count == maxEvents)
                {
                    return new EventBatchBody(results, null, false, TooMany: true);
                }

                results.Add(ReadValue(ref reader, json));
            }

            if (reader.Read())
            {
                return new EventBatchBody(results, SyntaxErrorAt(ref reader, "Unexpected data after the end of the JSON value."), false, false);
            }

            return new EventBatchBody(results, null, false, false);
        }
        catch (JsonException ex)
        {
            return new EventBatchBody(results, new JsonSyntaxError(ex.Message, ex.LineNumber, ex.BytePositionInLine), false, false);
        }
    }

    // Utf8JsonReader itself throws on a second root value; this covers what it lets through.
    private static JsonSyntaxError SyntaxErrorAt(ref Utf8JsonReader reader, string message) =>
        new(message, null, reader.TokenStartIndex);

    private static EventReadResult ReadValue(ref Utf8JsonReader reader, ReadOnlyMemory<byte> source)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var error = new EventValidationError();
            error.SetNotAnObject($"An event must be a JSON object, not {Describe(reader.TokenType)}.");
            reader.Skip();
            return new EventReadResult(null, error);
        }

        return ReadObject(ref reader, source);
    }

    private static EventReadResult ReadObject(ref Utf8JsonReader reader, ReadOnlyMemory<byte> source)
    {
        EventValidationError? error = null;
        string? eventId = null, eventType = null, userId = null, deviceId = null;
        DateTimeOffset? timestamp = null;
        ReadOnlyMemory<byte> payload = default, metadata = default;
        Seen seen = Seen.None;

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var field = Classify(ref reader);
            reader.Read();

            if (field == Seen.None)
            {
                reader.Skip();
                continue;
            }

            if ((seen & field) != 0)
            {
                (error ??= new()).Invalid(Name(field), "appears more than once");
                reader.Skip();
                continue;
            }

            seen |= field;
            switch (field)
            {
                case Seen.EventId:
                    eventId = ReadString(ref reader, "event_id", EventLimits.MaxEventIdLength, required: true, ref error);
                    break;
                case Seen.EventType:
                    eventType = ReadString(ref reader, "event_type", EventLimits.MaxEventTypeLength, required: true, ref error);
                    if (eventType is not null && !TopicRouter.IsLegalTopicName(eventType))
                    {
                        (error ??= new()).Invalid("event_type", "may contain only letters, digits, '.', '_' and '-'");
                        eventType = null;
                    }

                    break;
                case Seen.UserId:
                    userId = ReadString(ref reader, "user_id", EventLimits.MaxUserIdLength, required: false, ref error);
                    break;
                case Seen.DeviceId:
                    deviceId = ReadString(ref reader, "device_id", EventLimits.MaxDeviceIdLength, required: false, ref error);
                    break;
                case Seen.Timestamp:
                    timestamp = ReadTimestamp(ref reader, ref error);
                    break;
                case Seen.Payload:
                    payload = ReadObjectSlice(ref reader, source, "payload", required: true, ref error);
                    break;
                case Seen.Metadata:
                    metadata = ReadObjectSlice(ref reader, source, "metadata", required: false, ref error);
                    break;
            }
        }

        foreach (var required in RequiredFields)
        {
            if ((seen & required) == 0)
            {
                (error ??= new()).Missing(Name(required));
            }
        }

        if (error is not null)
        {
            return new EventReadResult(null, error);
        }

        return new EventReadResult(
            new IngestEvent
            {
                EventId = eventId!,
                Timestamp = timestamp!.Value,
                EventType = eventType!,
                UserId = userId,
                DeviceId = deviceId,
                Payload = payload,
                Metadata = metadata,
            },
            null);
    }

    private static readonly Seen[] RequiredFields = [Seen.EventId, Seen.Timestamp, Seen.EventType, Seen.Payload];

    [Flags]
    private enum Seen
    {
        None = 0,
        EventId = 1,
        Timestamp = 2,
        EventType = 4,
        UserId = 8,
        DeviceId = 16,
        Payload = 32,
        Metadata = 64,
    }

    private static Seen Classify(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("event_id"u8)) return Seen.EventId;
        if (reader.ValueTextEquals("timestamp"u8)) return Seen.Timestamp;
        if (reader.ValueTextEquals("event_type"u8)) return Seen.EventType;
        if (reader.ValueTextEquals("user_id"u8)) return Seen.UserId;
        if (reader.ValueTextEquals("device_id"u8)) return Seen.DeviceId;
        if (reader.ValueTextEquals("payload"u8)) return Seen.Payload;
        if (reader.ValueTextEquals("metadata"u8)) return Seen.Metadata;
        return Seen.None;
    }

    private static string Name(Seen field) => field switch
    {
        Seen.EventId => "event_id",
        Seen.Timestamp => "timestamp",
        Seen.EventType => "event_type",
        Seen.UserId => "user_id",
        Seen.DeviceId => "device_id",
        Seen.Payload => "payload",
        Seen.Metadata => "metadata",
        _ => "?",
    };

    private static string? ReadString(ref Utf8JsonReader reader, string field, int maxLength, bool required, ref EventValidationError? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var value = reader.GetString()!;
                if (value.Length == 0)
                {
                    if (required)
                    {
                        (error ??= new()).Invalid(field, "must not be empty");
                    }

                    return null;
                }

                if (value.Length > maxLength)
                {
                    (error ??= new()).Invalid(field, $"must be at most {maxLength} characters long");
                    return null;
                }

                return value;
            case JsonTokenType.Null when !required:
                return null;
            default:
                (error ??= new()).Invalid(field, $"must be a string, not {Describe(reader.TokenType)}");
                reader.Skip();
                return null;
        }
    }

    private static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader, ref EventValidationError? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (reader.TryGetDateTimeOffset(out var parsed))
                {
                    // A time written without an offset is UTC, never this machine's local time.
                    return HasExplicitOffset(ref reader)
                        ? parsed.ToUniversalTime()
                        : new DateTimeOffset(DateTime.SpecifyKind(parsed.DateTime, DateTimeKind.Utc));
                }

                (error ??= new()).Invalid("timestamp", "must be an ISO 8601 date-time such as 2024-01-15T10:30:00Z");
                return null;
            case JsonTokenType.Number:
                if (reader.TryGetDouble(out var number) && TryFromEpoch(number, out var fromEpoch))
                {
                    return fromEpoch;
                }

                (error ??= new()).Invalid("timestamp", "is a number outside the range of dates");
                return null;
            default:
                (error ??= new()).Invalid("timestamp", $"must be an ISO 8601 date-time string or a Unix time number, not {Describe(reader.TokenType)}");
                reader.Skip();
                return null;
        }
    }

    /// <summary>
    /// Unix time as pydantic reads it: seconds, unless the magnitude says milliseconds.
    /// </summary>
    private static bool TryFromEpoch(double value, out DateTimeOffset result)
    {
        const double MillisecondsThreshold = 2e10;
        var milliseconds = Math.Abs(value) > MillisecondsThreshold ? value : value * 1000d;
        var ticks = milliseconds * TimeSpan.TicksPerMillisecond;
        var min = (double)(DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);
        var max = (double)(DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);
        if (double.IsNaN(ticks) || ticks < min || ticks > max)
        {
            result = default;
            return false;
        }

        result = DateTimeOffset.UnixEpoch.AddTicks((long)ticks);
        return true;
    }

    private static bool HasExplicitOffset(ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> text = reader.ValueSpan;
        var t = text.IndexOfAny((byte)'T', (byte)'t');
        if (t < 0)
        {
            return false;
        }

        return text[(t + 1)..].IndexOfAny("Zz+-"u8) >= 0;
    }

    private static ReadOnlyMemory<byte> ReadObjectSlice(ref Utf8JsonReader reader, ReadOnlyMemory<byte> source, string field, bool required, ref EventValidationError? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var end = (int)reader.BytesConsumed;
                return source[start..end];
            case JsonTokenType.Null when !required:
                return default;
            default:
                (error ??= new()).Invalid(field, $"must be a JSON object, not {Describe(reader.TokenType)}");
                reader.Skip();
                return default;
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
