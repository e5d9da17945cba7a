using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
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
    public static async Task<IResult> PublishAsync(string topic, HttpContext context, EventIngestor ingestor, IdempotentPublisher idempotent, WireEventDecoder wire, EventTimeBounds bounds, IOptions<GatewayOptions> options)
    {
        var refused = CheckRequest(topic, context, ingestor, binary: ingestor.SchemasEnabled, out var input);
        if (refused is not null)
        {
            return refused;
        }

        using var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxEventBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(context, options.Value.MaxEventBytes);
        }

        // Avro and Protobuf bodies are decoded with the schema they name, then judged like JSON.
        var json = body.Memory;
        if (input is InputFormat.Avro or InputFormat.Protobuf)
        {
            var format = input == InputFormat.Avro ? WireFormat.Avro : WireFormat.Protobuf;
            var (decoded, undecodable) = await wire.DecodeAsync(body.Memory, format).ConfigureAwait(false);
            if (undecodable is not null)
            {
                return Failure(context, undecodable);
            }

            json = decoded;
        }

        var parsed = EventJsonReader.ReadSingle(json, bounds);
        if (parsed.SyntaxError is { } syntax)
        {
            return InvalidJson(context, syntax);
        }

        if (parsed.Result.Event is not { } e)
        {
            return Failure(context, EventIngestor.Invalid(parsed.Result.Error!));
        }

        var idempotencyKey = context.Request.Headers[IdempotentPublisher.HeaderName].ToString() is { Length: > 0 } k ? k : null;
        if (IdempotentPublisher.CheckKey(idempotencyKey) is { } badKey)
        {
            return Failure(context, badKey);
        }

        var request = IdempotentPublisher.RequestFor(Subject(context), idempotencyKey, topic, e);
        var (outcome, replayed) = await idempotent.PublishAsync(request, (ingestor, topic, e), Ingest, context.RequestAborted).ConfigureAwait(false);
        if (replayed)
        {
            context.Response.Headers[IdempotentPublisher.ReplayedHeader] = "true";
        }

        return outcome.Failure is { } failure
            ? Failure(context, failure)
            : TypedResults.Json(
                new EventResponse(EventResponse.Accepted, e.EventId, outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt),
                GatewayJsonContext.Api.EventResponse);
    }

    /// <summary>
    /// Publishes a JSON array of events. Each event is judged and published on its own; the
    /// answer has one result per event, in order. 200 when all were accepted, else 207.
    /// </summary>
    public static async Task<IResult> PublishBatchAsync(string topic, HttpContext context, EventIngestor ingestor, IdempotentPublisher idempotent, EventTimeBounds bounds, IOptions<GatewayOptions> options)
    {
        var refused = CheckRequest(topic, context, ingestor, binary: false, out _);
        if (refused is not null)
        {
            return refused;
        }

        var limits = options.Value;
        using var body = await RequestBody.ReadAsync(context.Request, limits.MaxBatchBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(context, limits.MaxBatchBytes);
        }

        var batch = EventJsonReader.ReadBatch(body.Memory, limits.MaxBatchEvents, bounds);
        if (batch.SyntaxError is { } syntax)
        {
            return InvalidJson(context, syntax);
        }

        if (batch.NotAnArray)
        {
            return ApiErrors.Result(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidBatch, "A batch body must be a JSON array of events.");
        }

        if (batch.TooMany)
        {
            return ApiErrors.Result(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidBatch,
                $"A batch may hold at most {limits.MaxBatchEvents} events.", new JsonObject { ["max_events"] = limits.MaxBatchEvents });
        }

        if (batch.Results.Count == 0)
        {
            return ApiErrors.Result(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidBatch, "The batch is empty.");
        }

        // Hand every valid event to the producer before awaiting any: they share Kafka batches.
        var pending = new Task<PublishOutcome>?[batch.Results.Count];
        for (var i = 0; i < pending.Length; i++)
        {
            if (batch.Results[i].Event is { } e)
            {
                pending[i] = PublishOneAsync(idempotent, ingestor, Subject(context), topic, e, context.RequestAborted);
            }
        }

        var results = new BatchItemResult[pending.Length];
        var accepted = 0;
        try
        {
            for (var i = 0; i < pending.Length; i++)
            {
                var read = batch.Results[i];
                if (pending[i] is not { } task)
                {
                    var invalid = EventIngestor.Invalid(read.Error!);
                    results[i] = Rejected(i, null, invalid);
                    continue;
                }

                var outcome = await task.ConfigureAwait(false);
                if (outcome.Failure is { } failure)
                {
                    results[i] = Rejected(i, read.Event!.EventId, failure);
                }
                else
                {
                    accepted++;
                    results[i] = new BatchItemResult(i, EventResponse.Accepted, read.Event!.EventId, outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt, null);
                }
            }
        }
        finally
        {
            // The events' payloads are slices of the pooled request body, which goes back to the
            // pool when this handler returns. If an await above threw (the client went away, say),
            // slots still waiting for their idempotency claim would publish from a recycled buffer:
            // the body is released only after every slot has finished, whatever happened.
            foreach (var slot in pending)
            {
                if (slot is { IsCompleted: false })
                {
                    await ((Task)slot).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                }
            }
        }

        var response = new BatchResponse(accepted, results.Length - accepted, results);
        return TypedResults.Json(response, GatewayJsonContext.Api.BatchResponse,
            statusCode: accepted == results.Length ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
    }

    /// <summary>Batch events are deduplicated by their event_id (a batch has no per-event header).</summary>
    private static async Task<PublishOutcome> PublishOneAsync(IdempotentPublisher idempotent, EventIngestor ingestor, string subject, string topic, IngestEvent e, CancellationToken cancellationToken) =>
        (await idempotent.PublishAsync(IdempotentPublisher.RequestFor(subject, null, topic, e), (ingestor, topic, e), Ingest, cancellationToken).ConfigureAwait(false)).Outcome;

    private static Task<PublishOutcome> Ingest((EventIngestor Ingestor, string Topic, IngestEvent Event) state, Confluent.Kafka.Headers? headers, CancellationToken cancellationToken) =>
        state.Ingestor.IngestAsync(state.Topic, state.Event, headers, cancellationToken);

    /// <summary>Whose idempotency keys these are: the token's subject.</summary>
    private static string Subject(HttpContext context) => context.User.FindFirst("sub")?.Value ?? "-";

    /// <param name="binary">Whether Avro and Protobuf bodies are taken (single events, with schemas on).</param>
    /// <param name="input">The body's format (when the request is not refused).</param>
    private static IResult? CheckRequest(string topic, HttpContext context, EventIngestor ingestor, bool binary, out InputFormat input)
    {
        input = InputFormat.Json;
        if (ingestor.CheckPath(topic) is { } pathFailure)
        {
            return Failure(context, pathFailure);
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

    private static BatchItemResult Rejected(int index, string? eventId, PublishFailure failure) =>
        new(index, BatchItemResult.Rejected, eventId, null, null, null, null, new BatchItemError(failure.ErrorCode, failure.Message, failure.Details));

    private static IResult Failure(HttpContext context, PublishFailure failure) =>
        ApiErrors.Result(context, failure.StatusCode, failure.ErrorCode, failure.Message, failure.Details);

    private static IResult TooLarge(HttpContext context, int limit) =>
        ApiErrors.Result(context, StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
            $"The request body is larger than {limit} bytes.", new JsonObject { ["max_bytes"] = limit });

    private static IResult InvalidJson(HttpContext context, JsonSyntaxError syntax)
    {
        var details = new JsonObject { ["reason"] = syntax.Message };
        if (syntax.LineNumber is { } line)
        {
            details["line"] = line + 1;
        }

        if (syntax.BytePositionInLine is { } position)
        {
            details["byte_position_in_line"] = position;
        }

        return ApiErrors.Result(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request body is not valid JSON.", details);
    }
}
