using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Core.Errors;
using EventPlatform.Core.Events;
using EventPlatform.Core.Resilience;
using EventPlatform.Gateway.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Publishing;

/// <summary>
/// Writes accepted events to Kafka and reports where they landed only once the broker has
/// acknowledged them with the seed's producer settings (acks=all, idempotent).
/// </summary>
/// <remarks>
/// <para>
/// Retries: librdkafka already retries inside one attempt (up to the message timeout), and the
/// idempotent producer makes those retries duplicate-free. When an attempt still fails, we try
/// again with the seed's backoff only if Kafka reports the record as <em>not persisted</em>:
/// retrying a record that may have been written would risk a second copy. After the last attempt
/// the client gets 503 <c>KAFKA_UNAVAILABLE</c>.
/// </para>
/// <para>Thread-safe; one instance serves every request.</para>
/// </remarks>
public sealed partial class EventPublisher(
    IProducer<byte[]?, byte[]> producer,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    GatewayMetrics metrics,
    ILogger<EventPublisher> logger)
{
    private readonly ExponentialBackoff _backoff = new(options.Value.PublishBaseDelay, options.Value.PublishMaxDelay);
    private readonly int _maxAttempts = options.Value.PublishMaxAttempts;

    /// <summary>
    /// Publishes one event whose record value is already encoded (<see cref="EventIngestor.PrepareAsync"/>) to
    /// <paramref name="topic"/>; <paramref name="cancellationToken"/> only cuts retry waits short.
    /// </summary>
    public Task<PublishOutcome> PublishAsync(IngestEvent e, byte[] value, string topic, Headers? headers, CancellationToken cancellationToken) =>
        PublishAsync(e.EventId, topic, ToMessage(e, value, headers, time.GetUtcNow()), cancellationToken);

    /// <summary>
    /// The Kafka record for an event: key = partition key, value = <paramref name="value"/> (else
    /// canonical JSON), timestamp = event time, and when given, the time the gateway accepted it
    /// (<see cref="AcceptedAtHeader"/>: the start of the end-to-end latency the sink measures).
    /// </summary>
    public static Message<byte[]?, byte[]> ToMessage(IngestEvent e, byte[]? value = null, Headers? headers = null, DateTimeOffset? acceptedAt = null)
    {
        if (acceptedAt is { } accepted)
        {
            headers ??= [];
            headers.Add(AcceptedAtHeader.Name, AcceptedAtHeader.Format(accepted));
        }

        return new()
        {
            Headers = headers,
            Key = e.PartitionKey is { } key ? Encoding.UTF8.GetBytes(key) : null,
            Value = value ?? EventJsonWriter.ToUtf8Bytes(e),
            Timestamp = new Timestamp(e.Timestamp),
        };
    }

    private async Task<PublishOutcome> PublishAsync(string eventId, string topic, Message<byte[]?, byte[]> message, CancellationToken cancellationToken)
    {
        var handedOver = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Not cancellable on purpose: once handed over, the record's fate must be learnt.
                var result = await producer.ProduceAsync(topic, message, CancellationToken.None).ConfigureAwait(false);
                metrics.EventPublished(topic, time.GetElapsedTime(handedOver));
                return PublishOutcome.Ok(topic, result.Partition.Value, result.Offset.Value, time.GetUtcNow());
            }
            catch (ProduceException<byte[]?, byte[]> ex)
            {
                var status = ex.DeliveryResult?.Status ?? PersistenceStatus.NotPersisted;
                if (IsFinal(ex.Error) || status != PersistenceStatus.NotPersisted || attempt >= _maxAttempts)
                {
                    LogGaveUp(logger, eventId, topic, attempt, ex.Error.Code, status);
                    metrics.PublishFailed();
                    return PublishOutcome.Failed(topic, Describe(ex.Error, status, attempt));
                }

                var delay = _backoff.Delay(attempt - 1);
                LogRetrying(logger, eventId, topic, attempt, ex.Error.Code, delay);
                metrics.PublishRetried();
                try
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The client left; the record was never written, so stopping loses nothing.
                    return PublishOutcome.Failed(topic, Describe(ex.Error, status, attempt));
                }
            }
            catch (ObjectDisposedException)
            {
                return PublishOutcome.Failed(topic, new PublishFailure(FailureKind.ShuttingDown, ErrorCodes.ShuttingDown, "The gateway is shutting down; the event was not accepted."));
            }
        }
    }

    /// <summary>Errors that another attempt cannot fix.</summary>
    private static bool IsFinal(Error error) =>
        error.IsFatal || error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.Local_InvalidArg;

    private static PublishFailure Describe(Error error, PersistenceStatus status, int attempts)
    {
        if (error.Code is ErrorCode.MsgSizeTooLarge)
        {
            return new PublishFailure(FailureKind.TooLarge, ErrorCodes.PayloadTooLarge, "The event is larger than the Kafka topic accepts.");
        }

        var details = new JsonObject
        {
            ["kafka_error"] = error.Code.ToString(),
            ["reason"] = error.Reason,
            ["attempts"] = attempts,
            // A record that may have been written is not retried by us; the client should know.
            ["possibly_persisted"] = status == PersistenceStatus.PossiblyPersisted,
        };
        return new PublishFailure(FailureKind.Unavailable, ErrorCodes.KafkaUnavailable, "Kafka did not accept the event; it was not published. Retry later.", details);
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Publish of event {EventId} to {Topic} failed on attempt {Attempt} ({Error}); retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string eventId, string topic, int attempt, ErrorCode error, TimeSpan delay);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Publish of event {EventId} to {Topic} gave up after {Attempts} attempt(s): {Error}, {Status}")]
    private static partial void LogGaveUp(ILogger logger, string eventId, string topic, int attempts, ErrorCode error, PersistenceStatus status);
}
