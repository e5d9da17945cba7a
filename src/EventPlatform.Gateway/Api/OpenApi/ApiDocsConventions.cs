using EventPlatform.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>
/// What the OpenAPI document says about a route, as endpoint conventions. Routes read their bodies
/// by hand and return <see cref="IResult"/>, so nothing can be inferred: each route states its
/// request body and every answer it can give here, next to where it is mapped.
/// </summary>
public static class ApiDocsConventions
{
    /// <summary>The tag of the event routes (publish, read, stream).</summary>
    public const string EventsTag = "Events";

    /// <summary>The tag of the service routes (health, metrics).</summary>
    public const string ServiceTag = "Service";

    private const string Json = "application/json";

    /// <summary>
    /// For a group of <c>/api/v1/events</c> routes: the tag, and the answers every authenticated,
    /// rate-limited route can give (401, 403, 429) as <see cref="ErrorResponse"/>s. The bearer
    /// requirement itself comes from the routes' authorization metadata.
    /// </summary>
    public static TBuilder WithEventsApiDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithTags(EventsTag).ProducesErrors(
            StatusCodes.Status401Unauthorized,
            StatusCodes.Status403Forbidden,
            StatusCodes.Status429TooManyRequests);

    /// <summary>Documents an <see cref="ErrorResponse"/> answer for each status, described with its error codes.</summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params int[] statusCodes)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statusCodes)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorResponse), [Json])
            {
                Description = DescribeError(status),
            });
        }

        return builder;
    }

    /// <summary>Documents a JSON answer of <typeparamref name="TResponse"/> with a description.</summary>
    public static TBuilder ProducesJson<TBuilder, TResponse>(this TBuilder builder, int statusCode, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(statusCode, typeof(TResponse), [Json]) { Description = description });

    /// <summary><c>POST /api/v1/events/{topic}</c>: one <see cref="EventDocument"/> in, an <see cref="EventResponse"/> out.</summary>
    public static RouteHandlerBuilder WithPublishEventDocs(this RouteHandlerBuilder builder) =>
        builder
            .WithSummary("Publish one event")
            .WithDescription(
                "Validates the event, routes it to its topic by `event_type` and writes it to Kafka (acks=all, idempotent producer). " +
                "The answer is sent only after Kafka acknowledged the write, and says where the event landed. " +
                "The record key is `user_id`, else `device_id`. " +
                "The event is checked against the schema registered for the topic (subject `{topic}-value`, and `payload-{event_type}` for the payload): " +
                "a mismatch is 400 `SCHEMA_VALIDATION_FAILED` naming the schema version and the failing fields. " +
                "Bodies: `application/json`; Avro in Confluent's wire format (magic byte 0, 4-byte schema id, Avro binary) as " +
                "`application/vnd.kafka.avro.v2+binary` or `avro/binary`; Protobuf in Confluent's wire format (magic byte, schema id, message indexes, Protobuf binary) " +
                "as `application/x-protobuf`. Whatever the input, Kafka gets one encoding per topic: Confluent's wire format with the topic's Avro schema id.")
            .Accepts<EventDocument>(Json, InputFormats.AvroMediaType, InputFormats.AvroShortMediaType, InputFormats.ProtobufMediaType)
            .ProducesJson<RouteHandlerBuilder, EventResponse>(StatusCodes.Status200OK, "Kafka acknowledged the event.")
            .ProducesErrors(
                StatusCodes.Status400BadRequest,
                StatusCodes.Status404NotFound,
                StatusCodes.Status413PayloadTooLarge,
                StatusCodes.Status415UnsupportedMediaType,
                StatusCodes.Status503ServiceUnavailable);

    /// <summary><c>POST /api/v1/events/{topic}/batch</c>: an array of <see cref="EventDocument"/>s in, a <see cref="BatchResponse"/> out.</summary>
    public static RouteHandlerBuilder WithPublishBatchDocs(this RouteHandlerBuilder builder) =>
        builder
            .WithSummary("Publish a batch of events")
            .WithDescription(
                "A JSON array of events (at most `Gateway:MaxBatchEvents`, 1,000 by default). Each event is judged and published on its own: " +
                "a bad event is reported in its own slot and the others are still published. One result per event, in request order.")
            .Accepts<EventDocument[]>(Json)
            .ProducesJson<RouteHandlerBuilder, BatchResponse>(StatusCodes.Status200OK, "Every event was accepted.")
            .ProducesJson<RouteHandlerBuilder, BatchResponse>(StatusCodes.Status207MultiStatus, "Some events were rejected: see each result's `error`.")
            .ProducesErrors(
                StatusCodes.Status400BadRequest,
                StatusCodes.Status404NotFound,
                StatusCodes.Status413PayloadTooLarge,
                StatusCodes.Status415UnsupportedMediaType,
                StatusCodes.Status503ServiceUnavailable);

    /// <summary><c>GET /api/v1/health</c>: a <see cref="HealthResponse"/>, 200 or 503.</summary>
    public static TBuilder WithHealthDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithTags(ServiceTag)
            .WithSummary("Health")
            .WithDescription(
                "Public. `kafka_connected` is measured with a metadata request (cached for a second); " +
                "`schema_registry_connected` probes SCHEMA_REGISTRY_URL when one is configured. " +
                "`status` is healthy, degraded (Kafka answers, a configured registry does not) or unhealthy.")
            .ProducesJson<TBuilder, HealthResponse>(StatusCodes.Status200OK, "Kafka answers.")
            .ProducesJson<TBuilder, HealthResponse>(StatusCodes.Status503ServiceUnavailable, "Kafka does not answer (status unhealthy).");

    /// <summary><c>GET /api/v1/events/{topic}/latest</c>.</summary>
    public static TBuilder WithLatestEventsDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithTags(EventsTag)
            .WithSummary("Latest events of a topic")
            .WithDescription(
                "The most recent events of the topic, newest first by event timestamp, read from the tail of every partition in " +
                "Kafka (so events from any producer appear). `limit` defaults to 100. Records that are not events are skipped. " +
                "Needs `events:read` for the topic when the token carries scopes.")
            .ProducesJson<TBuilder, Streaming.LatestEventsResponse>(StatusCodes.Status200OK, "The events, newest first.")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

    /// <summary><c>WS /api/v1/stream/{topic}</c> (a GET that upgrades).</summary>
    public static TBuilder WithStreamSocketDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithTags(EventsTag)
            .WithSummary("Stream a topic over a WebSocket")
            .WithDescription(
                "WebSocket upgrade. After a `subscribed` frame, every event published to the topic from then on is sent as a JSON " +
                "text frame, in order per partition. Filters: `event_type`, `user_id`, `device_id`. The token may also be given as " +
                "`access_token`. A client that falls too far behind is closed (see README). A plain GET is 400 WEBSOCKET_REQUIRED.")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

    /// <summary><c>WS /api/v1/ingest/{topic}</c> (a GET that upgrades).</summary>
    public static TBuilder WithIngestSocketDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithTags(EventsTag)
            .WithSummary("Publish events over a WebSocket")
            .WithDescription(
                "WebSocket upgrade. Each text frame holds one event (or an array); each event is validated like the POST and " +
                "answered with an `ack` frame once Kafka has it, or an `error` frame with the same error codes.")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

    /// <summary><c>GET /api/v1/metrics</c>: the service's own figures as JSON.</summary>
    public static TBuilder WithServiceMetricsDocs<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithTags(ServiceTag)
            .WithSummary("Service metrics")
            .WithDescription(
                "Public. Throughput, publish latency percentiles, errors by code, producer queue depth and uptime of this " +
                "gateway instance, over the last minute and since start. Prometheus scrapes the same figures at /metrics.")
            .ProducesJson<TBuilder, Metrics.ServiceMetricsResponse>(StatusCodes.Status200OK, "The figures.");

    /// <summary>The error codes a status carries on this API (README, "Errors").</summary>
    public static string DescribeError(int status) => status switch
    {
        StatusCodes.Status400BadRequest => Codes("The request is not acceptable", ErrorCodes.InvalidJson, ErrorCodes.InvalidEvent, ErrorCodes.UnknownEventType, ErrorCodes.TopicMismatch, ErrorCodes.InvalidBatch),
        StatusCodes.Status401Unauthorized => Codes("No valid bearer token", ErrorCodes.AuthenticationRequired, ErrorCodes.InvalidToken, ErrorCodes.TokenExpired),
        StatusCodes.Status403Forbidden => Codes("The token does not grant this operation", ErrorCodes.Forbidden),
        StatusCodes.Status404NotFound => Codes("The path topic takes no events, or no such route", ErrorCodes.UnknownTopic, ErrorCodes.NotFound),
        StatusCodes.Status405MethodNotAllowed => Codes("Wrong method on this route", ErrorCodes.MethodNotAllowed),
        StatusCodes.Status413PayloadTooLarge => Codes("The body is over the limit (1 MiB for one event, 16 MiB for a batch, by default)", ErrorCodes.PayloadTooLarge),
        StatusCodes.Status415UnsupportedMediaType => Codes("The body is not application/json (UTF-8)", ErrorCodes.UnsupportedMediaType),
        StatusCodes.Status429TooManyRequests => Codes("Over the rate limit; retry later", ErrorCodes.RateLimited),
        StatusCodes.Status500InternalServerError => Codes("A fault of ours; quote the request_id", ErrorCodes.InternalError),
        StatusCodes.Status503ServiceUnavailable => Codes("Kafka did not take the event after every retry, a downstream consumer is too far behind on the topic (Retry-After), or the service is shutting down; the event was not accepted", ErrorCodes.KafkaUnavailable, ErrorCodes.DownstreamBacklog, ErrorCodes.ShuttingDown),
        _ => "An ErrorResponse.",
    };

    private static string Codes(string what, params string[] codes) =>
        $"{what}. `error_code`: {string.Join(", ", codes.Select(c => $"`{c}`"))}.";
}
