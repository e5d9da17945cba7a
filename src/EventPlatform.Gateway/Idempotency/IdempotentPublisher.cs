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
/// <param name="Fingerprint">What the key is remembered with (<see cref="EventFingerprint"/>, 128 bits): a reused key with another event is refused.</param>
public readonly record struct IdempotencyRequest(string Subject, string Key, string Topic, UInt128 Fingerprint);

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
/// reused for a different event is refused with 422.
/// </para>
/// <para>
/// How instances agree: each request appends a claim to the idempotency log and waits until its
/// own instance has read the log up to that claim; the ledger, built in log order, then names the
/// same winner on every instance. Only the winner publishes, with a header naming its claim on the
/// event record; it then appends done (or abort when the event was certainly not written, which
/// frees the key, or in-doubt when it may have been). Losers wait for the result.
/// </para>
/// <para>
/// A claim without a result (in doubt, or its winner died) keeps its key. Once it is older than
/// <see cref="IdempotencyOptions.ClaimTimeout"/> (longer than the longest publish, so its event's
/// fate is sealed), the next request for the key reads the event topic for a record with the
/// claim's header: found, it appends done with that position and replays it; not found, it appends
/// abort and claims the key itself. Two instances resolving at once agree: the ledger applies only
/// the first settlement of a claim.
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

    /// <summary>The event record's header naming the claim that wrote it (32 hex digits).</summary>
    public const string ClaimHeader = "eventplatform-idempotency-claim";

    public bool Enabled => options.Value.Enabled;

    /// <summary>Checks a client-supplied key; null when it is usable.</summary>
    public static PublishFailure? CheckKey(string? key) =>
        key is { Length: > IdempotencyFailures.MaxKeyLength } ? IdempotencyFailures.KeyTooLong() : null;

    /// <summary>
    /// The request for <paramref name="e"/> sent to <paramref name="pathTopic"/> by <paramref name="subject"/>.
    /// With idempotency off nothing reads the fingerprint, so the event is not written out to hash it.
    /// </summary>
    public IdempotencyRequest RequestFor(string subject, string? idempotencyKey, string pathTopic, IngestEvent e)
    {
        var topic = TopicRouter.FullTopicName(pathTopic);
        return new IdempotencyRequest(subject, idempotencyKey ?? e.EventId, topic, Enabled ? EventFingerprint.Of(topic, e) : default);
    }

    /// <summary>Test hook: runs in the winner just before its publish step.</summary>
    internal Func<Task>? BeforePublishForTests { get; set; }

    /// <summary>Test hook: runs in the winner after its publish step returned, before its result is appended.</summary>
    internal Func<Task>? AfterPublishForTests { get; set; }

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
        var key = IdempotencyKeys.Key(request.Subject, request.Key);
        var claimTimeoutMs = (long)options.Value.ClaimTimeout.TotalMilliseconds;
        var deadline = time.GetUtcNow() + options.Value.ClaimTimeout;

        while (true)
        {
            var view = store.Lookup(key);
            switch (view.Status)
            {
                case KeyStatus.Done:
                    return Replay(view, request.Fingerprint, topic);

                case KeyStatus.Claimed or KeyStatus.InDoubt when Now() >= view.ClaimedAtMs + claimTimeoutMs:
                    // The holder's publish is over, one way or the other, and no result came: find out which.
                    if (await ResolveAsync(key, view, cancellationToken).ConfigureAwait(false) is { } unresolved)
                    {
                        return new(PublishOutcome.Failed(topic, unresolved), false);
                    }

                    continue;

                case KeyStatus.Claimed or KeyStatus.InDoubt:
                    if (time.GetUtcNow() > deadline)
                    {
                        return new(PublishOutcome.Failed(topic, IdempotencyFailures.InProgress()), false);
                    }

                    // Wake on anything read, or when the claim becomes resolvable.
                    var until = TimeSpan.FromMilliseconds(Math.Clamp(view.ClaimedAtMs + claimTimeoutMs - Now() + 1, 1, 200));
                    await store.NextChangeAsync(key).WaitAsync(until, time, cancellationToken)
                        .ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                    continue;
            }

            var claimId = IdempotencyKeys.NewClaimId();
            if (await AppendAndReadAsync(IdempotencyEntry.Claim(key, claimId, Now(), request.Fingerprint, topic), cancellationToken).ConfigureAwait(false) is { } failure)
            {
                return new(PublishOutcome.Failed(topic, failure), false);
            }

            var after = store.Lookup(key);
            if (after.Status == KeyStatus.Claimed && after.ClaimId == claimId)
            {
                return new(await PublishAsWinnerAsync(key, claimId, state, publish, cancellationToken).ConfigureAwait(false), false);
            }
        }
    }

    /// <summary>Appends an entry and waits until this instance has read it; a failure when either cannot be done.</summary>
    private async Task<PublishFailure?> AppendAndReadAsync(IdempotencyEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            var started = time.GetTimestamp();
            await store.AppendAndReadAsync(entry).WaitAsync(cancellationToken).ConfigureAwait(false);
            store.AppendRead(time.GetElapsedTime(started));
            return null;
        }
        catch (Kafka.Topics.TopicFollowerException ex)
        {
            return IdempotencyFailures.LogUnreadable(ex.KafkaError);
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            return IdempotencyFailures.ClaimNotWritten(ex.Error);
        }
    }

    private async Task<PublishOutcome> PublishAsWinnerAsync<TState>(UInt128 key, UInt128 claimId, TState state, PublishStep<TState> publish, CancellationToken cancellationToken)
    {
        PublishOutcome outcome;
        try
        {
            var headers = new Confluent.Kafka.Headers { { ClaimHeader, IdempotencyKeys.HeaderValue(claimId) } };
            if (BeforePublishForTests is { } before)
            {
                await before().ConfigureAwait(false);
            }

            outcome = await publish(state, headers, cancellationToken).ConfigureAwait(false);
            if (AfterPublishForTests is { } hook)
            {
                await hook().ConfigureAwait(false);
            }
        }
        catch
        {
            // Nobody can tell whether the step wrote the event: the key stays held until resolved.
            store.Post(IdempotencyEntry.InDoubt(key, claimId, Now()));
            throw;
        }

        // Not awaited: a done that is lost leaves the claim to be resolved from the event topic, and
        // a later entry of the same key is written after it (one queue per partition).
        store.Post(outcome.Accepted
            ? IdempotencyEntry.Done(key, claimId, Now(), outcome.Topic, outcome.Partition, outcome.Offset, outcome.AcknowledgedAt.UtcTicks)
            : IdempotencyFailures.MayHaveWritten(outcome.Failure!)
                ? IdempotencyEntry.InDoubt(key, claimId, Now())
                : IdempotencyEntry.Abort(key, claimId, Now()));
        return outcome;
    }

    /// <summary>
    /// Settles a claim left without a result from what the event topic holds. Null when the log
    /// has the claim settled (by this call or by another instance); else why it could not be.
    /// </summary>
    private async Task<PublishFailure?> ResolveAsync(UInt128 key, KeyView view, CancellationToken cancellationToken)
    {
        (bool Found, int Partition, long Offset) found;
        try
        {
            found = await store.FindClaimedEventAsync(view.TargetTopic!, view.ClaimId, view.ClaimedAtMs, cancellationToken).ConfigureAwait(false);
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            return IdempotencyFailures.ResolutionFailed(ex.Error);
        }

        LogResolved(logger, view.TargetTopic!, found.Found, found.Partition, found.Offset);
        var settle = found.Found
            ? IdempotencyEntry.Done(key, view.ClaimId, Now(), view.TargetTopic!, found.Partition, found.Offset, time.GetUtcNow().UtcTicks)
            : IdempotencyEntry.Abort(key, view.ClaimId, Now());
        return await AppendAndReadAsync(settle, cancellationToken).ConfigureAwait(false);
    }

    private static IdempotentOutcome Replay(KeyView known, UInt128 fingerprint, string topic)
    {
        var first = known.Result;
        if (known.Fingerprint != fingerprint)
        {
            return new(PublishOutcome.Failed(topic, IdempotencyFailures.KeyReused(first)), false);
        }

        return new(PublishOutcome.Ok(first.Topic, first.Partition, first.Offset, first.AcknowledgedAt), true);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 2342, Level = LogLevel.Warning, Message = "Resolved an idempotency claim left without a result from {Topic}: event found {Found} (partition {Partition}, offset {Offset})")]
    private static partial void LogResolved(ILogger logger, string topic, bool found, int partition, long offset);
}
