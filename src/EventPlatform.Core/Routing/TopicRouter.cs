using EventPlatform.Core.Topics;

namespace EventPlatform.Core.Routing;

/// <summary>How an event type maps to a topic, and whether the path of a request agrees.</summary>
public enum RouteOutcome
{
    /// <summary>The event type has a topic in the plan.</summary>
    Planned,

    /// <summary>The event type is new; its topic is made on first use (dynamic topics are on).</summary>
    Dynamic,

    /// <summary>The event type is not known and dynamic topics are off.</summary>
    UnknownEventType,

    /// <summary>The event type would land on a topic that is not for ingest (dlq, aggregated).</summary>
    ReservedTopic,
}

/// <summary>The topic an event type routes to.</summary>
public readonly record struct Route(RouteOutcome Outcome, string? Topic)
{
    public bool IsRoutable => Outcome is RouteOutcome.Planned or RouteOutcome.Dynamic;
}

/// <summary>
/// Routes events to topics by their <c>event_type</c> (Property 2) and resolves the topic named in
/// a request path. Pure and thread-safe.
/// </summary>
/// <remarks>
/// Planned types use the plan's topic (<c>iot.sensor</c> goes to <c>events.iot.sensors</c>). With
/// dynamic topics on, any other type <c>T</c> goes to <c>events.T</c> (Property 19), unless that
/// name belongs to a topic of another role or of another type.
/// </remarks>
public sealed class TopicRouter(TopicPlan plan, bool dynamicTopics)
{
    public TopicPlan Plan { get; } = plan;

    public bool DynamicTopics { get; } = dynamicTopics;

    public Route RouteEventType(string eventType)
    {
        var planned = Plan.FindByEventType(eventType);
        if (planned is not null)
        {
            return new Route(RouteOutcome.Planned, planned.Name);
        }

        if (!DynamicTopics)
        {
            return new Route(RouteOutcome.UnknownEventType, null);
        }

        var topic = TopicPlan.Prefix + eventType;
        if (topic.Length > TopicSpec.MaxNameLength || Plan.Find(topic) is not null)
        {
            // Taken by a planned topic of another type or role (events.dlq, events.iot.sensors...).
            return new Route(RouteOutcome.ReservedTopic, topic);
        }

        return new Route(RouteOutcome.Dynamic, topic);
    }

    /// <summary>
    /// The full topic name a request path means: <c>iot.sensors</c> and <c>events.iot.sensors</c>
    /// both mean <c>events.iot.sensors</c>.
    /// </summary>
    public static string FullTopicName(string pathTopic) =>
        pathTopic.StartsWith(TopicPlan.Prefix, StringComparison.Ordinal) ? pathTopic : TopicPlan.Prefix + pathTopic;

    /// <summary>
    /// Whether a path topic can take events at all: a planned ingest topic, or, with dynamic
    /// topics on, a name that is not a planned topic of another role.
    /// </summary>
    public bool IsIngestPath(string pathTopic)
    {
        var full = FullTopicName(pathTopic);
        var planned = Plan.Find(full);
        if (planned is not null)
        {
            return planned.Role == TopicRole.Ingest;
        }

        return DynamicTopics && full.Length <= TopicSpec.MaxNameLength && IsLegalTopicName(full);
    }

    /// <summary>Kafka's rule for topic names: letters, digits, '.', '_' and '-'.</summary>
    public static bool IsLegalTopicName(string name)
    {
        if (name.Length == 0 || name is "." or "..")
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
