using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Schemas;

namespace EventPlatform.Gateway.Publishing;

/// <summary>
/// The route, schema and encode stage of <see cref="PublishPipeline"/>: route by <c>event_type</c>,
/// check the path agrees, make the topic of a new type, validate against the registered schema and
/// encode the record value. Also checks a path topic before anything is read.
/// </summary>
public sealed class EventIngestor(TopicRouter router, TopicEnsurer topics, SchemaGate schemas)
{
    public TopicRouter Router => router;

    /// <summary>Whether events are validated against the registry (and binary formats taken).</summary>
    public bool SchemasEnabled => schemas.Enabled;

    /// <summary>Whether a request path names a topic that takes events; null when it does.</summary>
    public PublishFailure? CheckPath(string pathTopic)
    {
        if (router.IsIngestPath(pathTopic))
        {
            return null;
        }

        var full = TopicRouter.FullTopicName(pathTopic);
        var message = router.Plan.Find(full) is not null
            ? $"Topic '{full}' does not take events from clients."
            : $"Topic '{full}' does not exist. Topics: {string.Join(", ", router.Plan.Topics.Where(t => t.EventType is not null).Select(t => t.Name))}.";
        return new PublishFailure(FailureKind.UnknownTopic, ErrorCodes.UnknownTopic, message, new JsonObject { ["topic"] = full });
    }

    /// <summary>
    /// The route, schema and encode stage for one valid event that arrived on <paramref name="pathTopic"/>:
    /// its topic (made, for a new type), and its record value, encoded once. Nothing is published here.
    /// </summary>
    public async ValueTask<PreparedEvent> PrepareAsync(string pathTopic, IngestEvent e, CancellationToken cancellationToken)
    {
        var failure = Route(pathTopic, e, out var route);
        if (failure is not null)
        {
            return PreparedEvent.Refused(route.Topic ?? TopicRouter.FullTopicName(pathTopic), failure);
        }

        var topic = route.Topic!;
        if (route.Outcome == RouteOutcome.Dynamic)
        {
            try
            {
                await topics.EnsureAsync(topic, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return PreparedEvent.Refused(topic, new PublishFailure(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
                    $"Topic '{topic}' for the new event type could not be created; the event was not published.", new JsonObject { ["reason"] = ex.Message }));
            }
        }

        if (!schemas.Enabled)
        {
            return PreparedEvent.Encoded(topic, EventJsonWriter.ToUtf8Bytes(e));
        }

        // Property 1: only events that match the registered schema are written, in its encoding.
        var gate = await schemas.EncodeAsync(topic, e).ConfigureAwait(false);
        return gate.Failure is { } refused ? PreparedEvent.Refused(topic, refused) : PreparedEvent.Encoded(topic, gate.Value!);
    }

    /// <summary>The failure for an event that could not be read.</summary>
    public static PublishFailure Invalid(EventValidationError error)
    {
        var details = new JsonObject();
        if (error.MissingFields.Count > 0)
        {
            details["missing_fields"] = new JsonArray([.. error.MissingFields.Select(f => JsonValue.Create(f))]);
        }

        if (error.InvalidFields.Count > 0)
        {
            var invalid = new JsonObject();
            foreach (var (field, reason) in error.InvalidFields)
            {
                invalid[field] = reason;
            }

            details["invalid_fields"] = invalid;
        }

        return new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidEvent, error.Describe(), details.Count > 0 ? details : null);
    }

    private PublishFailure? Route(string pathTopic, IngestEvent e, out Route route)
    {
        route = router.RouteEventType(e.EventType);
        switch (route.Outcome)
        {
            case RouteOutcome.UnknownEventType:
                return new PublishFailure(FailureKind.Invalid, ErrorCodes.UnknownEventType,
                    $"Unknown event_type '{e.EventType}'. Known types: {string.Join(", ", router.Plan.Topics.Where(t => t.EventType is not null).Select(t => t.EventType))}; dynamic topic creation is off.",
                    new JsonObject { ["event_type"] = e.EventType });
            case RouteOutcome.ReservedTopic:
                return new PublishFailure(FailureKind.Invalid, ErrorCodes.UnknownEventType,
                    $"event_type '{e.EventType}' would be written to '{route.Topic}', which belongs to another event type or to the platform.",
                    new JsonObject { ["event_type"] = e.EventType, ["topic"] = route.Topic });
        }

        var pathFull = TopicRouter.FullTopicName(pathTopic);
        if (!string.Equals(pathFull, route.Topic, StringComparison.Ordinal))
        {
            return new PublishFailure(FailureKind.Invalid, ErrorCodes.TopicMismatch,
                $"An event of type '{e.EventType}' belongs on '{route.Topic}', not '{pathFull}'.",
                new JsonObject { ["event_type"] = e.EventType, ["path_topic"] = pathFull, ["expected_topic"] = route.Topic });
        }

        return null;
    }
}

/// <summary>An event ready to be published (its topic and record value), or why it is refused.</summary>
public readonly record struct PreparedEvent(string Topic, byte[]? Value, PublishFailure? Failure)
{
    public static PreparedEvent Encoded(string topic, byte[] value) => new(topic, value, null);

    public static PreparedEvent Refused(string topic, PublishFailure failure) => new(topic, null, failure);
}
