using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.SchemaRegistry;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.Events;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Schemas;

/// <summary>
/// Property 1 on the publish path: every event is checked against its topic's registered schema
/// (and its payload against the payload schema of its event type) and, when it matches, encoded
/// the one way its topic is stored: the Confluent wire format (magic byte, schema id) followed by
/// the Avro binary of the topic's latest schema (or the event's JSON, when the topic's schema is a
/// JSON Schema). Whatever the input format, what reaches Kafka is the same.
/// </summary>
public sealed class SchemaGate(SchemaCache schemas, IOptions<SchemaOptions> options)
{
    [ThreadStatic]
    private static ReusableJsonOutput? t_json;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_output;

    /// <summary>Whether events are validated and encoded against the registry (else plain JSON).</summary>
    public bool Enabled { get; } = options.Value.Enabled;

    /// <summary>Validates an event for <paramref name="topic"/> and returns the record value to write.</summary>
    public async ValueTask<GateOutcome> EncodeAsync(string topic, IngestEvent e)
    {
        SubjectSchema? valueSchema;
        SubjectSchema? payloadSchema;
        try
        {
            valueSchema = await schemas.LatestAsync(SchemaSubjects.Value(topic)).ConfigureAwait(false)
                ?? await RegisterDefaultAsync(topic).ConfigureAwait(false);
            payloadSchema = await schemas.LatestAsync(SchemaSubjects.Payload(e.EventType)).ConfigureAwait(false);
        }
        catch (SchemaUnavailableException ex)
        {
            return GateOutcome.Failed(Unavailable(ex));
        }

        // No await from here on: the thread-static buffers are ours until we return.
        var output = t_output ??= new ArrayBufferWriter<byte>(1024);
        output.ResetWrittenCount();
        ConfluentWireFormat.WriteHeader(output, valueSchema.Id);
        Problems? problems = null;
        if (valueSchema.EventEncoder is { } direct)
        {
            // The seed's record shape cannot refuse a valid event: encode from the model, no JSON in between.
            direct.Encode(e, output);
        }
        else if (EncodeAsJson(topic, e, valueSchema, output, ref problems) is { } unusable)
        {
            return GateOutcome.Failed(unusable);
        }

        var topicFailed = problems is not null;
        if (payloadSchema?.Validator is { } payloadValidator)
        {
            // The validator needs random access (combinators, conditionals): a document over the payload's own slice, not a copy.
            using var payload = JsonDocument.Parse(e.Payload);
            var checkedPayload = payloadValidator.Validate(payload.RootElement);
            Problems.Add(ref problems, checkedPayload.IsValid, checkedPayload.MissingFields, checkedPayload.InvalidFields, f => (f.Path, f.Reason), prefix: "payload");
        }

        if (problems is not null)
        {
            return GateOutcome.Failed(Mismatch(problems, valueSchema, topicFailed, payloadSchema));
        }

        return GateOutcome.Encoded(output.WrittenSpan.ToArray());
    }

    /// <summary>
    /// Any other topic schema: the event as JSON, checked and encoded by the general Avro encoder (or
    /// the topic's JSON Schema), which reports every field it refuses.
    /// </summary>
    private static PublishFailure? EncodeAsJson(string topic, IngestEvent e, SubjectSchema valueSchema, ArrayBufferWriter<byte> output, ref Problems? problems)
    {
        var json = t_json ??= new ReusableJsonOutput();
        var writer = json.Start();
        writer.WriteStartObject();
        EventJsonWriter.WriteFields(writer, e);
        writer.WriteEndObject();
        using var document = JsonDocument.Parse(json.WrittenMemory);
        var root = document.RootElement;
        switch (valueSchema)
        {
            case { Encoder: { } encoder }:
                var encoded = encoder.Encode(root, output);
                Problems.Add(ref problems, encoded.IsValid, encoded.MissingFields, encoded.InvalidFields, f => (f.Path, f.Reason), prefix: "");
                return null;
            case { Validator: { } validator }:
                var checkedJson = validator.Validate(root);
                Problems.Add(ref problems, checkedJson.IsValid, checkedJson.MissingFields, checkedJson.InvalidFields, f => (f.Path, f.Reason), prefix: "");
                output.Write(json.Written);
                return null;
            default:
                return new PublishFailure(FailureKind.Internal, ErrorCodes.InternalError,
                    $"The schema registered for '{topic}' is {valueSchema.Schema.Type}; topics are stored as AVRO or JSON.",
                    new JsonObject { ["schema_subject"] = valueSchema.Subject, ["schema_id"] = valueSchema.Id });
        }
    }

    /// <summary>
    /// A topic without a registered schema (a dynamic topic) gets the seed's Event schema, as
    /// Confluent's serializers auto-register theirs.
    /// </summary>
    private async Task<SubjectSchema> RegisterDefaultAsync(string topic)
    {
        var subject = SchemaSubjects.Value(topic);
        try
        {
            await schemas.Client.RegisterSchemaAsync(subject, new Schema(SeedAvroSchemas.EventWithMetadata, Confluent.SchemaRegistry.SchemaType.Avro)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SchemaRegistryException or HttpRequestException)
        {
            throw new SchemaUnavailableException($"Registering the event schema for '{topic}' failed: {ex.Message}", ex);
        }

        schemas.Invalidate(subject);
        return await schemas.LatestAsync(subject).ConfigureAwait(false)
            ?? throw new SchemaUnavailableException($"The schema registered for '{topic}' cannot be read back.", null);
    }

    /// <summary>The 503 for a registry that cannot be reached.</summary>
    public static PublishFailure Unavailable(SchemaUnavailableException ex) =>
        new(FailureKind.Unavailable, ErrorCodes.SchemaRegistryUnavailable,
            "The schema registry cannot be reached and the schema this event needs is not known yet; the event was not published. Retry later.",
            new JsonObject { ["reason"] = ex.Message });

    private static PublishFailure Mismatch(Problems problems, SubjectSchema valueSchema, bool topicFailed, SubjectSchema? payloadSchema)
    {
        // The seed's example: missing_fields and the schema_version that refused the event.
        var failing = topicFailed || payloadSchema is null ? valueSchema : payloadSchema;
        var details = new JsonObject();
        if (problems.Missing.Count > 0)
        {
            details["missing_fields"] = new JsonArray([.. problems.Missing.Select(f => JsonValue.Create(f))]);
        }

        if (problems.Invalid.Count > 0)
        {
            var invalid = new JsonObject();
            foreach (var (path, reason) in problems.Invalid)
            {
                invalid[path] = reason;
            }

            details["invalid_fields"] = invalid;
        }

        details["schema_subject"] = failing.Subject;
        details["schema_version"] = failing.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        details["schema_id"] = failing.Id;
        if (topicFailed && payloadSchema is not null && problems.PayloadFailed)
        {
            details["payload_schema_subject"] = payloadSchema.Subject;
            details["payload_schema_version"] = payloadSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new PublishFailure(FailureKind.Invalid, ErrorCodes.SchemaValidationFailed, "Event does not match registered schema", details);
    }

    private sealed class Problems
    {
        public List<string> Missing { get; } = [];

        public List<(string Path, string Reason)> Invalid { get; } = [];

        public bool PayloadFailed { get; private set; }

        /// <summary>Adds a check's problems; a passed check costs nothing (no list, no enumerator: this runs per event).</summary>
        public static void Add<T>(ref Problems? problems, bool valid, IEnumerable<string> missing, IEnumerable<T> invalid, Func<T, (string Path, string Reason)> describe, string prefix)
        {
            if (valid)
            {
                return;
            }

            problems ??= new Problems();
            var before = problems.Missing.Count + problems.Invalid.Count;
            problems.Missing.AddRange(missing.Select(m => Join(prefix, m)));
            problems.Invalid.AddRange(invalid.Select(describe).Select(i => (Join(prefix, i.Path), i.Reason)));
            problems.PayloadFailed |= prefix.Length > 0 && problems.Missing.Count + problems.Invalid.Count > before;
        }

        private static string Join(string prefix, string path) =>
            prefix.Length == 0 ? path : path is "" or "$" ? prefix : path.StartsWith('[') ? prefix + path : prefix + "." + path;
    }
}

/// <summary>The value to write, or why the event is refused.</summary>
public readonly record struct GateOutcome(byte[]? Value, PublishFailure? Failure)
{
    /// <summary>The event matched; <paramref name="value"/> is its record value.</summary>
    public static GateOutcome Encoded(byte[] value) => new(value, null);

    /// <summary>The event is refused.</summary>
    public static GateOutcome Failed(PublishFailure failure) => new(null, failure);
}
