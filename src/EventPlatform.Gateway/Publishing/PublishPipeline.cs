using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Backpressure;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Gateway.Protection;
using EventPlatform.Gateway.Schemas;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Gateway.Publishing;

/// <summary>Who publishes, and where: what every stage needs to know about the caller.</summary>
/// <param name="Subject">The authenticated <c>sub</c>: idempotency keys are scoped by it.</param>
/// <param name="Client">The rate-limit client (<see cref="RateLimiting.ClientKey"/>).</param>
/// <param name="PathTopic">The topic named in the request path.</param>
public readonly record struct PublishCaller(string Subject, string Client, string PathTopic);

/// <summary>How the bytes handed to <see cref="PublishPipeline.PublishEachAsync"/> are shaped, and what refusals call them.</summary>
public enum ManyEventsInput
{
    /// <summary>The batch route: a JSON array of events (anything else is refused whole).</summary>
    BatchBody,

    /// <summary>A WebSocket ingest message: one event object, or an array of events.</summary>
    SocketMessage,
}

/// <summary>The answer for one event: where Kafka put it, or why not.</summary>
/// <param name="EventId">The event's id, when it could be read.</param>
/// <param name="Outcome">Where the event is, or its failure.</param>
/// <param name="Replayed">The idempotency key already had this answer: nothing was written this time.</param>
public readonly record struct EventAnswer(string? EventId, PublishOutcome Outcome, bool Replayed)
{
    public PublishFailure? Failure => Outcome.Failure;
}

/// <summary>How an entry point takes events of a many-event input, and receives their answers.</summary>
public interface IEventAnswers
{
    /// <summary>
    /// Called before each event is started: the place for the transport's backpressure. False stops
    /// taking events (the rest of the input gets no answer and is not published).
    /// </summary>
    ValueTask<bool> AdmitAsync(CancellationToken cancellationToken);

    /// <summary>Called once per admitted event, when its answer is known, from any thread; <paramref name="index"/> is null for a lone object.</summary>
    void Answer(int? index, EventAnswer answer);
}

/// <summary>A many-event input refused whole, or taken (each event then answered through <see cref="IEventAnswers"/>).</summary>
/// <param name="Refused">Why the input was refused whole (nothing of it was published), or null.</param>
/// <param name="Answered">Completes when every admitted event has been answered and the input's bytes are released.</param>
public readonly record struct ManyEventsStart(PublishFailure? Refused, Task Answered);

/// <summary>
/// The one way an event gets into Kafka, whichever way it came in (single POST, batch, WebSocket
/// ingest; JSON, Avro, Protobuf). Its stages run in this order for every event, and no entry point
/// reaches a later one except through here:
/// <list type="number">
/// <item>read: the bytes into the event model, once (Avro and Protobuf decoded with the schema they name);</item>
/// <item>limit: the client's event allowance, one permit per event read (<see cref="EventRateLimiter"/>);</item>
/// <item>validate: the model's checks (made while reading), the idempotency key;</item>
/// <item>route, schema check and encode: the record value, encoded once (<see cref="EventIngestor.PrepareAsync"/>);</item>
/// <item>admit: not while a downstream consumer is too far behind on the topic (<see cref="DownstreamGuard"/>);</item>
/// <item>deduplicate: the idempotency key, after the event is known to be valid (<see cref="IdempotentPublisher"/>);</item>
/// <item>publish: to Kafka, after its acknowledgement (<see cref="EventPublisher"/>);</item>
/// <item>answer: a transport-neutral <see cref="EventAnswer"/>; each entry point maps it to HTTP or to a frame.</item>
/// </list>
/// </summary>
/// <remarks>
/// Events slice into the bytes they were read from, so the pipeline takes ownership of those bytes
/// (<see cref="PooledBytes"/>) and releases them itself once the last event read from them has been
/// answered, whatever happens to the caller meanwhile. Thread-safe; one instance serves every request.
/// </remarks>
public sealed partial class PublishPipeline(
    EventIngestor ingestor,
    IdempotentPublisher idempotent,
    EventPublisher publisher,
    WireEventDecoder wire,
    EventRateLimiter limiter,
    DownstreamGuard downstream,
    EventTimeBounds bounds,
    ILogger<PublishPipeline> logger)
{
    /// <summary>Whether binary bodies (Avro, Protobuf) can be read: only with schemas on.</summary>
    public bool TakesBinary => ingestor.SchemasEnabled;

    /// <summary>
    /// Publishes one event (the single POST). Takes ownership of <paramref name="body"/>.
    /// <paramref name="binary"/> is the wire format of a binary body, null for JSON;
    /// <paramref name="idempotencyKey"/> the client's key, else the event id is.
    /// </summary>
    public async Task<EventAnswer> PublishOneAsync(PublishCaller caller, PooledBytes body, WireFormat? binary, string? idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        using (body)
        {
            // Read: JSON with the event reader; a binary body straight into the model when it can be, else through its JSON.
            var json = body.Memory;
            PublishFailure? unreadable = null;
            SingleEventBody parsed = default;
            if (binary is { } format)
            {
                var read = await wire.ReadAsync(body.Memory, format, bounds).ConfigureAwait(false);
                unreadable = read.Failure;
                if (read.Event is { } direct)
                {
                    parsed = new SingleEventBody(new EventReadResult(direct, null), null);
                }
                else
                {
                    json = read.Json;
                }
            }

            if (unreadable is null && parsed.Result.Event is null)
            {
                parsed = EventJsonReader.ReadSingle(json, bounds);
                unreadable = parsed.SyntaxError is { } syntax ? InvalidJson(syntax, "The request body is not valid JSON.") : null;
            }

            // Limit: a request is one event, readable or not.
            if (limiter.TryTake(caller.Client, 1) is { } limited)
            {
                return Refused(caller, null, limited);
            }

            // Validate.
            if (unreadable is not null)
            {
                return Refused(caller, null, unreadable);
            }

            if (parsed.Result.Event is not { } e)
            {
                return Refused(caller, null, EventIngestor.Invalid(parsed.Result.Error!));
            }

            if (IdempotentPublisher.CheckKey(idempotencyKey) is { } badKey)
            {
                return Refused(caller, e.EventId, badKey);
            }

            return Logged(await PublishValidAsync(caller, e, idempotencyKey, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// Publishes the events of a batch body or a WebSocket message, each on its own (keyed by its
    /// event id). Takes ownership of <paramref name="body"/>. Returns once every event has been
    /// admitted and started (or the input refused whole); <see cref="ManyEventsStart.Answered"/>
    /// completes after the last answer, when the bytes have been released.
    /// </summary>
    public async Task<ManyEventsStart> PublishEachAsync(PublishCaller caller, PooledBytes body, ManyEventsInput input, int maxEvents, IEventAnswers answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(answers);
        var started = new List<Task>();
        Task answered;
        try
        {
            // Read.
            var (reads, lone, refused) = ReadMany(body.Memory, input, maxEvents);

            // Limit: every event read takes a permit; an input that could not be split into events counts as one.
            if (limiter.TryTake(caller.Client, reads?.Count ?? 1) is { } limited)
            {
                return new ManyEventsStart(limited, Task.CompletedTask);
            }

            if (refused is not null)
            {
                return new ManyEventsStart(refused, Task.CompletedTask);
            }

            // Hand every valid event on before awaiting any: they share Kafka batches.
            for (var i = 0; i < reads!.Count; i++)
            {
                if (!await answers.AdmitAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                started.Add(AnswerAsync(caller, reads[i], lone ? null : i, answers, cancellationToken));
            }
        }
        finally
        {
            // Whatever happened above (the caller gone mid-admission, say), the bytes are released
            // only after every event started from them has finished.
            answered = ReleaseWhenDoneAsync(started, body);
        }

        return new ManyEventsStart(null, answered);
    }

    private async Task AnswerAsync(PublishCaller caller, EventReadResult read, int? index, IEventAnswers answers, CancellationToken cancellationToken)
    {
        EventAnswer answer;
        try
        {
            answer = read.Event is { } e
                ? Logged(await PublishValidAsync(caller, e, idempotencyKey: null, cancellationToken).ConfigureAwait(false))
                : Refused(caller, null, EventIngestor.Invalid(read.Error!));
        }
        catch (OperationCanceledException)
        {
            // Only retry waits are cancelled: the caller is gone and the event was not written.
            answer = Refused(caller, read.Event?.EventId, new PublishFailure(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable, "The connection closed before the event was published."));
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, caller.PathTopic);
            answer = Refused(caller, read.Event?.EventId, new PublishFailure(FailureKind.Internal, ErrorCodes.InternalError, "An internal error occurred; the event was not published."));
        }

        answers.Answer(index, answer);
    }

    /// <summary>Route, schema check and encode; deduplicate; publish; answer.</summary>
    private async Task<EventAnswer> PublishValidAsync(PublishCaller caller, IngestEvent e, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var prepared = await ingestor.PrepareAsync(caller.PathTopic, e, cancellationToken).ConfigureAwait(false);
        if (prepared.Failure is { } refused)
        {
            return new EventAnswer(e.EventId, PublishOutcome.Failed(prepared.Topic, refused), false);
        }

        if (downstream.Check(prepared.Topic, prepared.Value!.Length) is { } held)
        {
            return new EventAnswer(e.EventId, PublishOutcome.Failed(prepared.Topic, held), false);
        }

        var request = idempotent.RequestFor(caller.Subject, idempotencyKey, caller.PathTopic, e);
        var (outcome, replayed) = await idempotent.PublishAsync(request, (publisher, e, prepared), PublishStep, cancellationToken).ConfigureAwait(false);
        return new EventAnswer(e.EventId, outcome, replayed);
    }

    private static Task<PublishOutcome> PublishStep((EventPublisher Publisher, IngestEvent Event, PreparedEvent Prepared) state, Confluent.Kafka.Headers? headers, CancellationToken cancellationToken) =>
        state.Publisher.PublishAsync(state.Event, state.Prepared.Value!, state.Prepared.Topic, headers, cancellationToken);

    /// <summary>The read stage of a many-event input: its events (each read or refused on its own), or why the whole input is refused.</summary>
    private (IReadOnlyList<EventReadResult>? Reads, bool Lone, PublishFailure? Refused) ReadMany(ReadOnlyMemory<byte> bytes, ManyEventsInput input, int maxEvents)
    {
        var socket = input == ManyEventsInput.SocketMessage;
        var notJson = socket ? "The message is not valid JSON." : "The request body is not valid JSON.";
        if (socket && !IsArray(bytes.Span))
        {
            var single = EventJsonReader.ReadSingle(bytes, bounds);
            return single.SyntaxError is { } syntax ? (null, true, InvalidJson(syntax, notJson)) : ([single.Result], true, null);
        }

        var batch = EventJsonReader.ReadBatch(bytes, maxEvents, bounds);
        if (batch.SyntaxError is { } batchSyntax)
        {
            return (null, false, InvalidJson(batchSyntax, notJson));
        }

        if (batch.NotAnArray)
        {
            return (null, false, new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidBatch, "A batch body must be a JSON array of events."));
        }

        if (batch.TooMany)
        {
            var text = socket ? $"An array may hold at most {maxEvents} events." : $"A batch may hold at most {maxEvents} events.";
            return (null, false, new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidBatch, text, new JsonObject { ["max_events"] = maxEvents }));
        }

        if (batch.Results.Count == 0)
        {
            return (null, false, socket
                ? new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidBatch, "The array is empty.", new JsonObject { ["max_events"] = maxEvents })
                : new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidBatch, "The batch is empty."));
        }

        return (batch.Results, false, null);
    }

    private static bool IsArray(ReadOnlySpan<byte> bytes)
    {
        var trimmed = bytes.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] == (byte)'[';
    }

    private static async Task ReleaseWhenDoneAsync(List<Task> started, PooledBytes body)
    {
        try
        {
            foreach (var task in started)
            {
                // Each slot catches its own failures; this only waits.
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            body.Dispose();
        }
    }

    private EventAnswer Refused(PublishCaller caller, string? eventId, PublishFailure failure) =>
        Logged(new(eventId, PublishOutcome.Failed(TopicRouter.FullTopicName(caller.PathTopic), failure), false));

    /// <summary>
    /// One Debug entry per answered event, with its id (and, with JSON logs, the request's id and
    /// trace): off by default, where it costs one level check per event.
    /// </summary>
    private EventAnswer Logged(EventAnswer answer)
    {
        var outcome = answer.Outcome;
        if (outcome.Failure is { } failure)
        {
            LogRefused(logger, answer.EventId, outcome.Topic, failure.ErrorCode, failure.Message);
        }
        else
        {
            LogAccepted(logger, answer.EventId, outcome.Topic, outcome.Partition, outcome.Offset, answer.Replayed);
        }

        return answer;
    }

    /// <summary>The refusal of input that is not JSON, with where the reader stopped.</summary>
    public static PublishFailure InvalidJson(JsonSyntaxError syntax, string message)
    {
        ArgumentNullException.ThrowIfNull(syntax);
        var details = new JsonObject { ["reason"] = syntax.Message };
        if (syntax.LineNumber is { } line)
        {
            details["line"] = line + 1;
        }

        if (syntax.BytePositionInLine is { } position)
        {
            details["byte_position_in_line"] = position;
        }

        return new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidJson, message, details);
    }

    [LoggerMessage(EventId = 2332, Level = LogLevel.Debug, Message = "Event {EventId} accepted: {Topic}[{Partition}]@{Offset} (replayed {Replayed})")]
    private static partial void LogAccepted(ILogger logger, string? eventId, string topic, int partition, long offset, bool replayed);

    [LoggerMessage(EventId = 2333, Level = LogLevel.Debug, Message = "Event {EventId} refused for {Topic}: {ErrorCode}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string? eventId, string topic, string errorCode, string reason);

    [LoggerMessage(EventId = 2331, Level = LogLevel.Error, Message = "Publishing an event received on {Topic} failed unexpectedly")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string topic);
}
