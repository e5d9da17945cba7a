namespace EventPlatform.Schemas.Tests;

/// <summary>The seed's Avro Event record (design.md, "Schema Registry") and ways to evolve it.</summary>
internal static class AvroSchemas
{
    public const string EventFields = """
        {"name": "event_id", "type": "string"},
        {"name": "timestamp", "type": "long"},
        {"name": "event_type", "type": "string"},
        {"name": "user_id", "type": ["null", "string"], "default": null},
        {"name": "device_id", "type": ["null", "string"], "default": null},
        {"name": "payload", "type": "string"}
        """;

    public static readonly string Event = EventWith("");

    /// <summary>The seed's Event with extra field declarations appended (each starting with a comma).</summary>
    public static string EventWith(string extraFields, string name = "Event", string header = "") => $$"""
        {"type": "record", "name": "{{name}}", "namespace": "com.platform.events", {{header}}
         "fields": [{{EventFields}}{{extraFields}}]}
        """;

    /// <summary>The seed's Event with one of its fields' declarations replaced.</summary>
    public static string EventReplacing(string field, string replacement) =>
        Event.Replace(field, replacement, StringComparison.Ordinal) is var s && s != Event
            ? s
            : throw new ArgumentException($"'{field}' is not in the Event schema.", nameof(field));
}
