using System.Collections.Concurrent;

namespace EventPlatform.Schemas.Client;

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
