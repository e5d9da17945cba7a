using System.Collections.Concurrent;

namespace EventPlatform.Gateway.Schemas;

/// <summary>How the gateway uses the schema registry (section <c>Gateway:Schemas</c>).</summary>
public sealed class SchemaOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Schemas";

    /// <summary>
    /// Validate every event against its topic's registered schema and write it in the Confluent
    /// wire format. Needs SCHEMA_REGISTRY_URL. Off: events are checked against the seed's event
    /// model only and written as plain canonical JSON (for running without any registry).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Register the seed's schemas (idempotently) when the gateway starts.</summary>
    public bool RegisterSeedSchemas { get; set; } = true;

    /// <summary>How long a subject's latest version is used before it is looked up again (in the background).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one registry request may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Which subjects hold which schemas.</summary>
/// <remarks>Names are made once per topic and event type: they are looked up for every event.</remarks>
public static class SchemaSubjects
{
    private static readonly ConcurrentDictionary<string, string> ValueSubjects = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> PayloadSubjects = new(StringComparer.Ordinal);

    /// <summary>
    /// The schema of a topic's record values: Confluent's TopicNameStrategy, so that Confluent's
    /// deserializers and Kafka Connect converters find it.
    /// </summary>
    public static string Value(string topic) => ValueSubjects.GetOrAdd(topic, static t => t + "-value");

    /// <summary>The JSON Schema of an event type's <c>payload</c>.</summary>
    public static string Payload(string eventType) => PayloadSubjects.GetOrAdd(eventType, static t => "payload-" + t);
}
