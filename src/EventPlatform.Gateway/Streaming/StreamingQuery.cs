using System.Globalization;
using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Http;

namespace EventPlatform.Gateway.Streaming;

/// <summary>Query parameters of the read routes, and the errors they answer before any work is done.</summary>
internal static class StreamingQuery
{
    /// <summary>Reads <c>limit</c>: absent means the default; anything but one integer in 1..max is refused.</summary>
    public static bool TryReadLimit(HttpContext context, StreamingOptions options, out int limit, out string? problem)
    {
        limit = options.LatestDefaultLimit;
        problem = null;
        if (!TryReadSingle(context, "limit", out var text, out problem) || text is null)
        {
            return problem is null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > options.LatestMaxLimit)
        {
            problem = $"limit must be an integer from 1 to {options.LatestMaxLimit}, not '{text}'.";
            return false;
        }

        return true;
    }

    /// <summary>Reads the stream filters <c>event_type</c>, <c>user_id</c> and <c>device_id</c>.</summary>
    public static bool TryReadFilter(HttpContext context, out StreamFilter filter, out string? problem)
    {
        filter = StreamFilter.None;
        if (!TryReadSingle(context, "event_type", out var eventType, out problem)
            || !TryReadSingle(context, "user_id", out var userId, out problem)
            || !TryReadSingle(context, "device_id", out var deviceId, out problem))
        {
            return false;
        }

        filter = new StreamFilter(eventType, userId, deviceId);
        return true;
    }

    /// <summary>400 <c>INVALID_PARAMETER</c>.</summary>
    public static Task WriteInvalidAsync(HttpContext context, string problem) =>
        ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, problem);

    /// <summary>404 <c>UNKNOWN_TOPIC</c> for a topic that takes events but is not in the cluster (yet).</summary>
    public static (string Message, JsonObject Details) UnknownTopic(string topic) =>
        ($"Topic '{topic}' does not exist.", new JsonObject { ["topic"] = topic });

    /// <summary>400 <c>WEBSOCKET_REQUIRED</c> for a plain HTTP request to a WebSocket route.</summary>
    public static Task WriteWebSocketRequiredAsync(HttpContext context) =>
        ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.WebSocketRequired,
            $"{context.Request.Path} is a WebSocket route: connect with a WebSocket client (GET with 'Connection: Upgrade' and 'Upgrade: websocket').");

    /// <summary>503 <c>KAFKA_UNAVAILABLE</c> for a read that Kafka did not answer.</summary>
    public static (string Message, JsonObject Details) KafkaUnavailable(string topic, string reason) =>
        ($"Kafka did not answer while reading '{topic}'. Retry later.", new JsonObject { ["topic"] = topic, ["reason"] = reason });

    private static bool TryReadSingle(HttpContext context, string name, out string? value, out string? problem)
    {
        value = null;
        problem = null;
        var values = context.Request.Query[name];
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1)
        {
            problem = $"{name} may be given once.";
            return false;
        }

        value = string.IsNullOrEmpty(values[0]) ? null : values[0];
        return true;
    }

    /// <summary>
    /// Answers, before any upgrade, a request that cannot become a socket of <paramref name="topic"/>:
    /// not a WebSocket request (400), or a topic that does not exist or take events (404). True when it did.
    /// </summary>
    public static async Task<bool> RefuseUpgradeAsync(HttpContext context, EventIngestor ingestor, string topic)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await WriteWebSocketRequiredAsync(context).ConfigureAwait(false);
            return true;
        }

        if (ingestor.CheckPath(topic) is { } refused)
        {
            await ApiErrors.WriteAsync(context, EventPlatform.Gateway.Api.HttpFailures.HttpStatusCode(refused), refused.ErrorCode, refused.Message, refused.Details).ConfigureAwait(false);
            return true;
        }

        return false;
    }
}
