using System.Text.Json.Nodes;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Gateway.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>Who asks to publish what, under which key: everything idempotency needs to know about a request.</summary>
/// <param name="Subject">The authenticated subject (the token's <c>sub</c>): keys never cross subjects.</param>
/// <param name="Key">The client's <c>Idempotency-Key</c>, else the event's <c>event_id</c>.</param>
/// <param name="Topic">The full topic name the request was sent to.</param>
/// <param name="Fingerprint">What the key is remembered with (<see cref="EventFingerprint"/>): a reused key with another event is refused.</param>
public readonly record struct IdempotencyRequest(string Subject, string Key, string Topic, string Fingerprint);

/// <summary>
/// The step that writes the event, run only by the request that holds the key. It must put
/// <paramref name="headers"/> (when given) on the event's Kafka record: they say which claim wrote it.
/// </summary>
public delegate Task<PublishOutcome> PublishStep<in TState>(TState state, Confluent.Kafka.Headers? headers, CancellationToken cancellationToken);

/// <summary>What an idempotent publish did.</summary>
/// <param name="Outcome">Where the event is (or why it is not).</param>
/// <param name="Replayed">True when the key had a result already: nothing was written this time.</param>
public readonly record struct IdempotentOutcome(PublishOutcome Outcome, bool Replayed);

/// <summary>
/// Publishes an event at most once per idempotency key (the <c>Idempotency-Key</c> header, else
/// the event's <c>event_id</c>), across every gateway instance and across restarts, for the
/// configured window. A retry of a request whose answer was lost gets the first answer back.
/// </summary>
/// <remarks>
/// <para>
/// Keys are scoped by the token's subject: one client can never see another's results. A key
/// reused for a different event (another topic or event id) is refused with 422.
/// </para>
/// <para>
/// How instances agree: each request appends a claim to the idempotency topic and waits until its
/// own instance has read the topic up to that claim; the ledger, built in log order, then names
/// the same winner on every instance. Only the winner publishes; it then appends the result (or
/// an abort, when publishing failed, which frees the key). Losers wait for the result. A winner
/// that dies between its event's acknowledgement and writing the result leaves a claim that
/// expires after <see cref="IdempotencyOptions.ClaimTimeout"/>; a retry after that publishes again.
/// </para>
/// </remarks>
public sealed partial class IdempotentPublisher(
    IdempotencyStore store,
    IOptions<IdempotencyOptions> options,
    TimeProvider time,
    ILogger<IdempotentPublisher> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxKeyLength = 255;

    /// <summary>The event record's header naming the claim that wrote it.</summary>
    public const string ClaimHeader = "eventplatform-idempotency-claim";

    public bool Enabled => options.Value.Enabled;

    /// <summary>Checks a client-supplied key; null when it is usable.</summary>
    public static PublishFailure? CheckKey(string? key) =>
        key is { Length: > MaxKeyLength }
            ? new PublishFailure(FailureKind.Invalid, ErrorCodes.InvalidIdempotencyKey, $"The Idempotency-Key header may be at most {MaxKeyLength} characters long.")
            : null;

    /// <summary>The request for <paramref name="e"/> sent to <paramref name="pathTopic"/> by <paramref name="subject"/>.</summary>
    public static IdempotencyRequest RequestFor(string subject, string? idempotencyKey, string pathTopic, IngestEvent e)
    {
        var topic = TopicRouter.FullTopicName(pathTopic);
        return new IdempotencyRequest(subject, idempotencyKey ?? e.EventId, topic, EventFingerprint.Of(topic, e));
    }

    /// <summary>
    /// Runs <paramref name="publish"/> at most once for the request's key (when idempotency is on),
    /// else replays the key's first answer.
    /// </summary>
    public async Task<IdempotentOutcome> PublishAsync<TState>(IdempotencyRequest request, TState state, PublishStep<TState> publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publish);
        if (!Enabled)
        {
            return new(await publish(state, null, cancellationToken).ConfigureAwait(false), false);
        }

        var topic = request.Topic;
        var key = request.Subject + "\u001f" + request.Key;
        var fingerprint = request.Fingerprint;
        var deadline = time.GetUtcNow() + options.Value.ClaimTimeout;

        while (true)
        {
            if (store.Result(key) is { } known)
            {
                return Replay(known, fingerprint, topic);
            }

            var claimId = Guid.NewGuid().ToString("N");
            Confluent.Kafka.TopicPartitionOffset claim;
            try
            {
                claim = await store.AppendAsync(key, new IdempotencyRecord(IdempotencyRecordType.Claim, claimId, fingerprint, Now())).ConfigureAwait(false);
            }
            catch (Confluent.Kafka.KafkaException ex)
            {
                // Without a claim there is no guarantee against a second copy: refuse, publish nothing.
                return new(PublishOutcome.Failed(topic, new PublishFailure(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
                    "Kafka did not accept the idempotency claim; the event was not published. Retry later.",
                    new JsonObject { ["stage"] = "idempotency_claim", ["kafka_error"] = ex.Error.Code.ToString(), ["reason"] = ex.Error.Reason })), false);
            }

            try
            {
                await store.WaitUntilReadAsync(claim.Partition.Value, claim.Offset.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (Kafka.Topics.TopicFollowerException ex)
            {
                // The topic can no longer be read (the gateway is stopping): nobody can tell who holds the key.
                return new(PublishOutcome.Failed(topic, new PublishFailure(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable,
                    "The gateway can no longer read its idempotency topic and is stopping; the event was not published. Retry later.",
                    new JsonObject { ["stage"] = "idempotency_read", ["kafka_error"] = ex.KafkaError.Code.ToString(), ["reason"] = ex.KafkaError.Reason })), false);
            }

            if (store.Winner(key) == claimId)
            {
                return new(await PublishAsWinnerAsync(key, claimId, fingerprint, state, publish, cancellationToken).ConfigureAwait(false), false);
            }

            // Another request holds the key: wait for its result, or for the key to be freed.
            while (store.Result(key) is null && store.Winner(key) is { } holder && holder != claimId)
            {
                if (time.GetUtcNow() > deadline)
                {
                    return new(PublishOutcome.Failed(topic, new PublishFailure(FailureKind.InProgress, ErrorCodes.IdempotencyInProgress,
                        "A request with the same idempotency key is still in progress; retry later.")), false);
                }

                await store.NextChangeAsync().WaitAsync(TimeSpan.FromMilliseconds(200), time, cancellationToken)
                    .ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task<PublishOutcome> PublishAsWinnerAsync<TState>(string key, string claimId, string fingerprint, TState state, PublishStep<TState> publish, CancellationToken cancellationToken)
    {
        PublishOutcome outcome;
        try
        {
            var headers = new Confluent.Kafka.Headers { { ClaimHeader, System.Text.Encoding.ASCII.GetBytes(claimId) } };
            outcome = await publish(state, headers, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.AppendAsync(key, new IdempotencyRecord(IdempotencyRecordType.Abort, claimId, fingerprint, Now())).ConfigureAwait(false);
            throw;
        }

        var settle = outcome.Accepted
            ? new IdempotencyRecord(IdempotencyRecordType.Done, claimId, fingerprint, Now(), outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt)
            : new IdempotencyRecord(IdempotencyRecordType.Abort, claimId, fingerprint, Now());
        try
        {
            await store.AppendAsync(key, settle).ConfigureAwait(false);
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            // The event itself is safely in Kafka; only the memory of it is missing. The claim
            // expires and a later retry would publish again: say so in the logs.
            LogSettleFailed(logger, ex.Error.Code);
        }

        return outcome;
    }

    private static IdempotentOutcome Replay(IdempotentResult known, string fingerprint, string topic)
    {
        if (known.Fingerprint != fingerprint)
        {
            return new(PublishOutcome.Failed(topic, new PublishFailure(FailureKind.KeyReused, ErrorCodes.IdempotencyKeyReused,
                "This idempotency key was already used for a different event.",
                new JsonObject { ["first_topic"] = known.Topic, ["first_partition"] = known.Partition, ["first_offset"] = known.Offset })), false);
        }

        return new(PublishOutcome.Ok(known.Topic, known.Partition, known.Offset, known.AcknowledgedAt), true);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 2311, Level = LogLevel.Error, Message = "An event was published but its idempotency result could not be recorded ({Code}); a retry after the claim timeout may publish it again")]
    private static partial void LogSettleFailed(ILogger logger, Confluent.Kafka.ErrorCode code);
}
