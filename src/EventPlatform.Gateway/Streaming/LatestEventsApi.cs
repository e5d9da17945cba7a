using Confluent.Kafka;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Streaming;

/// <summary><c>GET /api/v1/events/{topic}/latest?limit=N</c>: the most recent events of a topic, read from Kafka.</summary>
internal static class LatestEventsApi
{
    public static async Task<IResult> GetLatestAsync(string topic, HttpContext context, EventIngestor ingestor, LatestEventsReader reader, IOptions<StreamingOptions> options)
    {
        if (ingestor.CheckPath(topic) is { } refused)
        {
            return ApiErrors.Result(context, EventPlatform.Gateway.Api.HttpFailures.HttpStatusCode(refused), refused.ErrorCode, refused.Message, refused.Details);
        }

        if (!StreamingQuery.TryReadLimit(context, options.Value, out var limit, out var problem))
        {
            return ApiErrors.Result(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, problem!,
                new() { ["parameter"] = "limit", ["min"] = 1, ["max"] = options.Value.LatestMaxLimit });
        }

        var full = TopicRouter.FullTopicName(topic);
        try
        {
            var events = await reader.ReadAsync(full, limit, context.RequestAborted).ConfigureAwait(false);
            if (events is null)
            {
                var (message, details) = StreamingQuery.UnknownTopic(full);
                return ApiErrors.Result(context, StatusCodes.Status404NotFound, ErrorCodes.UnknownTopic, message, details);
            }

            return TypedResults.Json(new LatestEventsResponse(full, events.Count, events), StreamingJsonContext.Api.LatestEventsResponse);
        }
        catch (Exception ex) when (ex is KafkaException or TimeoutException)
        {
            var (message, details) = StreamingQuery.KafkaUnavailable(full, ex.Message);
            return ApiErrors.Result(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.KafkaUnavailable, message, details);
        }
    }
}
