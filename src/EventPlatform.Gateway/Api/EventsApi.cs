using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Gateway.Auth;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Gateway.Protection;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Gateway.Schemas;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Api;

/// <summary>The publish routes: <c>POST /api/v1/events/{topic}</c> and its batch form.</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/events").RequireAuthorization().RequireTopicAccess(TopicAction.Write).WithEventsApiDocs();
        group.MapPost("/{topic}", PublishAsync).WithName("PublishEvent").WithPublishEventDocs().RequireRateLimiting(RateLimiting.EventsPolicy);
        group.MapPost("/{topic}/batch", PublishBatchAsync).WithName("PublishEventBatch").WithPublishBatchDocs().RequireRateLimiting(RateLimiting.BatchPolicy);
        return group;
    }

    /// <summary>Validates one event, writes it to Kafka, and answers with where it landed.</summary>
    public static async Task<IResult> PublishAsync(string topic, HttpContext context, EventIngestor ingestor, PublishPipeline pipeline, IOptions<GatewayOptions> options)
    {
        var refused = CheckRequest(topic, context, ingestor, binary: pipeline.TakesBinary, out var input);
        if (refused is not null)
        {
            return refused;
        }

        var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxEventBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(context, options.Value.MaxEventBytes);
        }

        var binary = input switch
        {
            InputFormat.Avro => WireFormat.Avro,
            InputFormat.Protobuf => WireFormat.Protobuf,
            _ => (WireFormat?)null,
        };
        var idempotencyKey = context.Request.Headers[IdempotentPublisher.HeaderName].ToString() is { Length: > 0 } k ? k : null;
        var answer = await pipeline.PublishOneAsync(Caller(context, topic), body, binary, idempotencyKey, context.RequestAborted).ConfigureAwait(false);
        if (answer.Replayed)
        {
            context.Response.Headers[IdempotentPublisher.ReplayedHeader] = "true";
        }

        var outcome = answer.Outcome;
        return outcome.Failure is { } failure
            ? HttpFailures.Result(context, failure)
            : TypedResults.Json(
                new EventResponse(EventResponse.Accepted, answer.EventId!, outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt),
                GatewayJsonContext.Api.EventResponse);
    }

    /// <summary>
    /// Publishes a JSON array of events. Each event is judged and published on its own; the
    /// answer has one result per event, in order. 200 when all were accepted, else 207.
    /// </summary>
    public static async Task<IResult> PublishBatchAsync(string topic, HttpContext context, EventIngestor ingestor, PublishPipeline pipeline, IOptions<GatewayOptions> options)
    {
        var refused = CheckRequest(topic, context, ingestor, binary: false, out _);
        if (refused is not null)
        {
            return refused;
        }

        var limits = options.Value;
        var body = await RequestBody.ReadAsync(context.Request, limits.MaxBatchBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(context, limits.MaxBatchBytes);
        }

        // The pipeline owns the body from here and releases it after the last slot's answer.
        var slots = new BatchSlots();
        var start = await pipeline.PublishEachAsync(Caller(context, topic), body, ManyEventsInput.BatchBody, limits.MaxBatchEvents, slots, context.RequestAborted).ConfigureAwait(false);
        if (start.Refused is { } whole)
        {
            return HttpFailures.Result(context, whole);
        }

        await start.Answered.ConfigureAwait(false);
        var results = slots.Results();
        var accepted = results.Count(r => r.Error is null);
        // Slots the client should send again later: the header says when, as on a refused single POST.
        HttpFailures.SetRetryAfter(context, slots.RetryAfter);

        var response = new BatchResponse(accepted, results.Length - accepted, results);
        return TypedResults.Json(response, GatewayJsonContext.Api.BatchResponse,
            statusCode: accepted == results.Length ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
    }

    /// <summary>The caller: idempotency keys are the token's subject's, the allowance the rate-limit client's.</summary>
    private static PublishCaller Caller(HttpContext context, string topic) =>
        new(context.User.FindFirst("sub")?.Value ?? "-", RateLimiting.ClientKey(context), topic);

    /// <summary>A batch's answers, by slot (the pipeline answers from any thread, each slot once).</summary>
    private sealed class BatchSlots : IEventAnswers
    {
        private readonly List<BatchItemResult?> _results = [];
        private TimeSpan? _retryAfter;

        /// <summary>The longest wait a refused slot asked for (rate limit, downstream backlog), or null.</summary>
        public TimeSpan? RetryAfter
        {
            get
            {
                lock (_results)
                {
                    return _retryAfter;
                }
            }
        }

        public ValueTask<bool> AdmitAsync(CancellationToken cancellationToken)
        {
            // Every slot is taken at once; the list grows before any answer can arrive for it.
            lock (_results)
            {
                _results.Add(null);
            }

            return ValueTask.FromResult(true);
        }

        public void Answer(int? index, EventAnswer answer)
        {
            var i = index ?? 0;
            var outcome = answer.Outcome;
            var result = outcome.Failure is { } failure
                ? new BatchItemResult(i, BatchItemResult.Rejected, answer.EventId, null, null, null, null, new BatchItemError(failure.ErrorCode, failure.Message, failure.Details))
                : new BatchItemResult(i, EventResponse.Accepted, answer.EventId, outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt, null, answer.Replayed ? true : null);
            lock (_results)
            {
                _results[i] = result;
                if (outcome.Failure?.RetryAfter is { } wait && (_retryAfter is null || wait > _retryAfter))
                {
                    _retryAfter = wait;
                }
            }
        }

        public BatchItemResult[] Results()
        {
            lock (_results)
            {
                return [.. _results.Select(r => r!)];
            }
        }
    }

    /// <param name="binary">Whether Avro and Protobuf bodies are taken (single events, with schemas on).</param>
    /// <param name="input">The body's format (when the request is not refused).</param>
    private static IResult? CheckRequest(string topic, HttpContext context, EventIngestor ingestor, bool binary, out InputFormat input)
    {
        input = InputFormat.Json;
        if (ingestor.CheckPath(topic) is { } pathFailure)
        {
            return HttpFailures.Result(context, pathFailure);
        }

        var format = RequestBody.FormatOf(context.Request);
        input = format ?? InputFormat.Json;
        if (format is null || (format != InputFormat.Json && !binary))
        {
            var supported = binary
                ? new JsonArray("application/json", InputFormats.AvroMediaType, InputFormats.AvroShortMediaType, InputFormats.ProtobufMediaType)
                : new JsonArray("application/json");
            return ApiErrors.Result(context, StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                $"Content-Type must be one of {string.Join(", ", supported.Select(x => x!.GetValue<string>()))}, not '{context.Request.ContentType ?? "(none)"}'.",
                new JsonObject { ["supported"] = supported });
        }

        return null;
    }

    private static IResult TooLarge(HttpContext context, int limit) =>
        ApiErrors.Result(context, StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
            $"The request body is larger than {limit} bytes.", new JsonObject { ["max_bytes"] = limit });
}
