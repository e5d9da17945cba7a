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
/// Whatever the client sent is checked before it is kept: text anywhere in the event must be
/// valid Unicode and numbers anywhere must be finite (see <see cref="JsonText"/>), and the
/// timestamp must fit a Kafka record (not before 1970) and, when <see cref="EventTimeBounds"/>
/// are given, the gateway's clock. Every such refusal names its field in
/// <see cref="EventValidationError.InvalidFields"/>. Depth is bounded by the reader's MaxDepth and
/// every walk is iterative. All members are thread-safe.
/// </remarks>
public static class EventJsonReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    /// <summary>Reads a body whose root is one event object, with no bound from a clock (stored events).</summary>
    public static SingleEventBody ReadSingle(ReadOnlyMemory<byte> json) => ReadSingle(json, null);

    /// <summary>
    /// Reads a body whose root is one event object; with <paramref name="bounds"/>, an event whose
    /// timestamp is outside them is refused (what a client sends is read this way).
    /// </summary>
    public static SingleEventBody ReadSingle(ReadOnlyMemory<byte> json, EventTimeBounds? bounds)
    {
        var reader = new Utf8JsonReader(json.Span, ReaderOptions);
        var clock = Clock.Of(bounds);
        try
        {
            if (!reader.Read())
            {
                return new SingleEventBody(default, new JsonSyntaxError("The request body is empty.", null, null));
            }

            var result = ReadValue(ref reader, json, clock);
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
    public static EventBatchBody ReadBatch(ReadOnlyMemory<byte> json, int maxEvents) => ReadBatch(json, maxEvents, null);

    /// <summary>Reads a body whose root is an array of events, each judged against <paramref name="bounds"/> when given.</summary>
    public static EventBatchBody ReadBatch(ReadOnlyMemory<byte> json, int maxEvents, EventTimeBounds? bounds)
    {
        var reader = new Utf8JsonReader(json.Span, ReaderOptions);
        var clock = Clock.Of(bounds);
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

                results.Add(ReadValue(ref reader, json, clock));
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

    /// <summary>The bounds and the one "now" every event of a body is judged against.</summary>
    private readonly record struct Clock(EventTimeBounds? Bounds, DateTimeOffset Now)
    {
        public static Clock Of(EventTimeBounds? bounds) => new(bounds, bounds?.Time.GetUtcNow() ?? default);
    }

    private static EventReadResult ReadValue(ref Utf8JsonReader reader, ReadOnlyMemory<byte> source, Clock clock)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var error = new EventValidationError();
            error.SetNotAnObject($"An event must be a JSON object, not {Describe(reader.TokenType)}.");
            reader.Skip();
            return new EventReadResult(null, error);
        }

        return ReadObject(ref reader, source, clock);
    }

    private static EventReadResult ReadObject(ref Utf8JsonReader reader, ReadOnlyMemory<byte> source, Clock clock)
    {
        EventValidationError? error = null;
        string? eventId = null, eventType = null, userId = null, deviceId = null;
        DateTimeOffset? timestamp = null;
        ReadOnlyMemory<byte> payload = default, metadata = default;
        Seen seen = Seen.None;

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            // A known name is ASCII, so only other names need their text checked; an escaped name is
            // checked first, since comparing unescapes it (and throws on an unpaired surrogate).
            var unreadable = reader.ValueIsEscaped && !JsonText.IsUnicode(ref reader);
            var field = unreadable ? Seen.None : Classify(ref reader);
            if (unreadable || (field == Seen.None && !JsonText.IsUnicode(ref reader)))
            {
                // No name to report it under: the name itself is the problem.
                (error ??= new()).Invalid(UnreadableName, JsonText.NotUnicode);
                reader.Read();
                reader.Skip();
                continue;
            }

            if (field == Seen.None)
            {
                // Ignored, but not stored unchecked either: a client's bad text is refused wherever it is.
                // A copy of the reader at the name: the name is decoded only when it has to be reported.
                var atName = reader;
                reader.Read();
                if (JsonText.CheckValue(ref reader, source.Span) is { } problem)
                {
                    (error ??= new()).Invalid(atName.GetString()!, problem.Reason);
                }

                continue;
            }

            reader.Read();

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
                    timestamp = ReadTimestamp(ref reader, clock, ref error);
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

    /// <summary>The reason given for a field holding text that is not valid Unicode.</summary>
    public const string NotUnicodeReason = JsonText.NotUnicode;

    /// <summary>The reason given for a field holding a number that would be infinite as a double.</summary>
    public const string NotFiniteReason = JsonText.NotFinite;

    /// <summary>The start of the reason given for a field holding an object that names a property twice.</summary>
    public const string DuplicateNameReason = JsonText.DuplicateName;

    /// <summary>The key of <see cref="EventValidationError.InvalidFields"/> for a property name that is not Unicode.</summary>
    public const string UnreadableName = "(property name)";

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
                string value;
                try
                {
                    value = reader.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    // GetString refuses invalid UTF-8 and unpaired surrogate escapes; checking first would cost every event.
                    (error ??= new()).Invalid(field, JsonText.NotUnicode);
                    return null;
                }

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

    private static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader, Clock clock, ref EventValidationError? error)
    {
        var read = ReadTimestamp(ref reader, ref error);
        if (read is not { } timestamp)
        {
            return null;
        }

        // A Kafka record timestamp is milliseconds since the epoch and never negative.
        if (timestamp < DateTimeOffset.UnixEpoch)
        {
            (error ??= new()).Invalid("timestamp", "must not be before 1970-01-01T00:00:00Z (Kafka record timestamps cannot be negative)");
            return null;
        }

        if (clock.Bounds?.Check(timestamp, clock.Now) is { } refused)
        {
            (error ??= new()).Invalid("timestamp", refused);
            return null;
        }

        return timestamp;
    }

    private static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader, ref EventValidationError? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                // Unpaired surrogate escapes throw from the parse; invalid UTF-8 only fails it.
                if (!JsonText.IsUnicode(ref reader))
                {
                    (error ??= new()).Invalid("timestamp", JsonText.NotUnicode);
                    return null;
                }

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
                if (reader.TryGetDouble(out var number) && double.IsFinite(number) && TryFromEpoch(number, out var fromEpoch))
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
                if (JsonText.CheckValue(ref reader, source.Span) is { } problem)
                {
                    (error ??= new()).Invalid(field, $"{problem.Reason}, at byte {problem.Offset} of the body");
                    return default;
                }

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
