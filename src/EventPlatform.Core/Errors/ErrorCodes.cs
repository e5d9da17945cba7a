namespace EventPlatform.Core.Errors;

/// <summary>
/// The stable <c>error_code</c> values of <see cref="ErrorResponse"/>. Once published, a code
/// keeps its meaning and its HTTP status; new failures get new codes.
/// </summary>
public static class ErrorCodes
{
    /// <summary>400: the body is not well-formed JSON.</summary>
    public const string InvalidJson = "INVALID_JSON";

    /// <summary>400: the JSON is well-formed but an event is missing fields or has mistyped ones.</summary>
    public const string InvalidEvent = "INVALID_EVENT";

    /// <summary>400: the event does not match the schema registered for its topic.</summary>
    public const string SchemaValidationFailed = "SCHEMA_VALIDATION_FAILED";

    /// <summary>400: the event type has no topic and dynamic topic creation is off.</summary>
    public const string UnknownEventType = "UNKNOWN_EVENT_TYPE";

    /// <summary>400: a binary event names a schema id the registry does not have, or is not in Confluent's wire format.</summary>
    public const string UnknownSchema = "UNKNOWN_SCHEMA";

    /// <summary>400: a binary event could not be decoded with the schema it names.</summary>
    public const string InvalidEncoding = "INVALID_ENCODING";

    /// <summary>503: the schema registry cannot be reached and the schema needed is not cached.</summary>
    public const string SchemaRegistryUnavailable = "SCHEMA_REGISTRY_UNAVAILABLE";

    /// <summary>400: the topic in the path is not the topic the event's type routes to.</summary>
    public const string TopicMismatch = "TOPIC_MISMATCH";

    /// <summary>400: a batch body is not a JSON array, or holds more events than allowed.</summary>
    public const string InvalidBatch = "INVALID_BATCH";

    /// <summary>400: the Idempotency-Key header is not usable (too long).</summary>
    public const string InvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY";

    /// <summary>409: another request with the same idempotency key is still being published.</summary>
    public const string IdempotencyInProgress = "IDEMPOTENCY_IN_PROGRESS";

    /// <summary>422: the idempotency key was already used for a different event.</summary>
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";

    /// <summary>400: a query parameter is malformed or out of range (<c>details.parameter</c> names it).</summary>
    public const string InvalidParameter = "INVALID_PARAMETER";

    /// <summary>400: a WebSocket route was called with a plain HTTP request instead of a WebSocket upgrade.</summary>
    public const string WebSocketRequired = "WEBSOCKET_REQUIRED";

    /// <summary>401: no bearer token.</summary>
    public const string AuthenticationRequired = "AUTHENTICATION_REQUIRED";

    /// <summary>401: the token is malformed, wrongly signed, or not valid for this service.</summary>
    public const string InvalidToken = "INVALID_TOKEN";

    /// <summary>401: the token has expired.</summary>
    public const string TokenExpired = "TOKEN_EXPIRED";

    /// <summary>403: the token is valid but does not grant this operation.</summary>
    public const string Forbidden = "FORBIDDEN";

    /// <summary>404: no such route.</summary>
    public const string NotFound = "NOT_FOUND";

    /// <summary>404: the topic in the path does not exist or does not take events.</summary>
    public const string UnknownTopic = "UNKNOWN_TOPIC";

    /// <summary>405: the route exists but not for this method.</summary>
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";

    /// <summary>413: the body is larger than the configured limit.</summary>
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";

    /// <summary>415: the body's content type is not one the route reads.</summary>
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";

    /// <summary>429: the client is over its rate limit.</summary>
    public const string RateLimited = "RATE_LIMITED";

    /// <summary>500: a fault of ours.</summary>
    public const string InternalError = "INTERNAL_ERROR";

    /// <summary>503: Kafka did not take the write after every retry; the event was not accepted.</summary>
    public const string KafkaUnavailable = "KAFKA_UNAVAILABLE";

    /// <summary>
    /// 503 with <c>Retry-After</c>: a downstream consumer (the sink, the processor) is so far behind on
    /// the event's topic that the broker could drop what it has not read; nothing was published.
    /// </summary>
    public const string DownstreamBacklog = "DOWNSTREAM_BACKLOG";

    /// <summary>503: the service is shutting down and takes no new work.</summary>
    public const string ShuttingDown = "SHUTTING_DOWN";
}
