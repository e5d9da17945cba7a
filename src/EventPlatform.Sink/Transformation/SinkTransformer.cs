using System.Globalization;
using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;
using EventPlatform.Core.Topics;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.Events;

namespace EventPlatform.Sink.Transformation;

/// <summary>
/// Property 14: turns a consumed record into a row of its table, <c>events</c> for the raw topics and
/// <c>aggregated_events</c> for <c>events.aggregated</c>, with every required column filled, or says
/// why it cannot (the record then goes to the DLQ whole; no half-filled row is ever made).
/// </summary>
/// <remarks>
/// <para>
/// Whatever the bytes, <see cref="TransformAsync"/> returns a row or a failure: every walk over the
/// input is bounded (the Avro decoder checks lengths and depth, the event reader caps depth at 64,
/// the aggregate's JSON is read with a depth cap). It throws only
/// <see cref="SchemaUnavailableException"/>, when the registry cannot be asked, since an outage says
/// nothing about the record: the caller pauses and tries the record again.
/// </para>
/// <para>Events are decoded with the shared schema code (Confluent wire format, Avro or JSON body, or plain JSON). Thread-safe.</para>
/// </remarks>
public sealed class SinkTransformer(ISinkSchemaLookup schemas, TimeProvider time)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The row for <paramref name="value"/> read at <paramref name="source"/>.</summary>
    public async ValueTask<TransformOutcome> TransformAsync(RecordPosition source, byte[]? value, CancellationToken cancellationToken)
    {
        if (value is null || value.Length == 0)
        {
            return TransformOutcome.Failed(TransformErrorTypes.NotWireFormat, "The record has no value.");
        }

        var aggregated = source.Topic == TopicPlan.Aggregated;
        if (value[0] != ConfluentWireFormat.MagicByte)
        {
            return aggregated
                ? TransformOutcome.Failed(TransformErrorTypes.NotWireFormat, "An aggregated event is an Avro record in Confluent's wire format (magic byte 0).")
                : FromEventJson(source, value, value);
        }

        if (!ConfluentWireFormat.TryReadHeader(value, out var id, out var offset, out var headerError))
        {
            return TransformOutcome.Failed(TransformErrorTypes.NotWireFormat, headerError ?? "The wire-format header is malformed.");
        }

        SubjectSchema writer;
        try
        {
            writer = await schemas.ByIdAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (UnknownSchemaException)
        {
            return TransformOutcome.Failed(TransformErrorTypes.UnknownSchema, $"The schema registry has no schema with id {id}.");
        }

        try
        {
            if (aggregated)
            {
                return writer.Decoder is { } aggregateDecoder
                    ? FromAggregateJson(source, aggregateDecoder.DecodeToJson(value.AsSpan(offset)), value)
                    : TransformOutcome.Failed(TransformErrorTypes.Undecodable, $"Schema id {id} is not Avro; aggregated events are Avro records.");
            }

            if (writer.Decoder is { } decoder)
            {
                return FromEventJson(source, EventShape.FromAvro(decoder, value.AsSpan(offset)), value);
            }

            return writer.Schema.Type == SchemaType.JSON
                ? FromEventJson(source, value.AsSpan(offset).ToArray(), value)
                : TransformOutcome.Failed(TransformErrorTypes.Undecodable, $"Schema id {id} is a {writer.Schema.Type} schema; the sink reads Avro and JSON events.");
        }
        catch (Exception e) when (e is AvroDecodeException or FormatException or JsonException or ArgumentException or DecoderFallbackException or InsufficientExecutionStackException or OverflowException)
        {
            return TransformOutcome.Failed(TransformErrorTypes.Undecodable, $"The body could not be decoded with schema id {id}: {e.Message}");
        }
    }

    private TransformOutcome FromEventJson(RecordPosition source, byte[] json, byte[] original)
    {
        var read = EventJsonReader.ReadSingle(json);
        if (read.SyntaxError is { } syntax)
        {
            return TransformOutcome.Failed(TransformErrorTypes.Undecodable, "The record is not one JSON event: " + syntax.Message);
        }

        if (read.Result.Event is not { } e)
        {
            return TransformOutcome.Failed(TransformErrorTypes.InvalidEvent, read.Result.Error!.Describe());
        }

        return TransformOutcome.Of(new EventRow
        {
            Source = source,
            SizeBytes = original.Length,
            OriginalMessage = original,
            EventId = e.EventId,
            Timestamp = e.Timestamp.UtcDateTime,
            EventType = e.EventType,
            UserId = e.UserId,
            DeviceId = e.DeviceId,
            // Strict: a lone surrogate or a broken sequence is refused here, not stored as U+FFFD.
            Payload = StrictUtf8.GetString(e.Payload.Span),
            Metadata = e.Metadata.IsEmpty ? null : StrictUtf8.GetString(e.Metadata.Span),
            IngestionTime = time.GetUtcNow().UtcDateTime,
        });
    }

    private static TransformOutcome FromAggregateJson(RecordPosition source, string json, byte[] original)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return TransformOutcome.Failed(TransformErrorTypes.InvalidAggregate, "An aggregated event is a record.");
        }

        var missing = new List<string>();
        var start = Time(root, "window_start", missing);
        var end = Time(root, "window_end", missing);
        var eventType = Text(root, "event_type", missing);
        var count = Long(root, "count", missing);
        var distinct = Long(root, "distinct_users", missing);
        var kind = Text(root, "window_kind", missing);
        var windowSize = Long(root, "window_size_ms", missing);
        var slide = Long(root, "window_slide_ms", missing);
        var processed = Time(root, "processed_time", missing);
        if (missing.Count > 0)
        {
            return TransformOutcome.Failed(TransformErrorTypes.InvalidAggregate, "Missing or invalid fields: " + string.Join(", ", missing) + ".");
        }

        if (end < start)
        {
            return TransformOutcome.Failed(TransformErrorTypes.InvalidAggregate, "window_end is before window_start.");
        }

        return TransformOutcome.Of(new AggregatedEventRow
        {
            Source = source,
            SizeBytes = original.Length,
            OriginalMessage = original,
            WindowStart = start,
            WindowEnd = end,
            EventType = eventType!,
            Count = count,
            SumValue = OptionalDouble(root, "sum_value"),
            AvgValue = OptionalDouble(root, "avg_value"),
            MinValue = OptionalDouble(root, "min_value"),
            MaxValue = OptionalDouble(root, "max_value"),
            DistinctUsers = distinct,
            WindowKind = kind!,
            WindowSizeMs = windowSize,
            WindowSlideMs = slide,
            WindowKey = root.TryGetProperty("window_key", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString()! : "",
            IsUpdate = root.TryGetProperty("is_update", out var update) && update.ValueKind == JsonValueKind.True,
            ProcessedTime = processed,
        });
    }

    private static string? Text(JsonElement root, string name, List<string> missing)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s)
        {
            return s;
        }

        missing.Add(name);
        return null;
    }

    private static long Long(JsonElement root, string name, List<string> missing)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l))
        {
            return l;
        }

        missing.Add(name);
        return 0;
    }

    private static DateTime Time(JsonElement root, string name, List<string> missing)
    {
        if (root.TryGetProperty(name, out var v))
        {
            // timestamp-millis: a number; a JSON-producing writer may give RFC 3339 text.
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var millis)
                && millis >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && millis <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                return DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime;
            }

            if (v.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed.UtcDateTime;
            }
        }

        missing.Add(name);
        return default;
    }

    private static double? OptionalDouble(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;
}
