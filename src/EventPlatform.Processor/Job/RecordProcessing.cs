using EventPlatform.Core.DeadLetter;
using EventPlatform.Core.Resilience;
using EventPlatform.Processor.Enrichment;
using EventPlatform.Processor.Input;
using EventPlatform.Schemas.Client;
using EventPlatform.Streaming.DataStream;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Processor.Job;

/// <summary>What became of one consumed record: an enriched event for the windows, or a DLQ message.</summary>
/// <param name="Source">The record as consumed.</param>
/// <param name="Event">The enriched event, when the record is a valid event.</param>
/// <param name="DeadLetter">Why it is not, in the seed's <c>DLQMessage</c> shape.</param>
public sealed record ProcessedRecord(SourceRecord Source, EnrichedEvent? Event, DlqMessage? DeadLetter)
{
    /// <summary>
    /// The record's event time: the event's timestamp, or 0 for a record that goes to the DLQ. 0 is
    /// never above a partition's newest timestamp, so a hostile record (a year-9999 timestamp, say)
    /// moves no watermark; and a DLQ record written with timestamp 0 gets the producer's clock.
    /// </summary>
    public long EventTime => Event?.Event.Timestamp.ToUnixTimeMilliseconds() ?? 0;
}

/// <summary>
/// The default job's per-record step: classify (Property 7: rejections go straight to the DLQ), then
/// enrich; a step that throws is retried with the seed's backoff and, after the last retry, sent to the
/// DLQ with <c>retry_count</c> and the first and last attempt times (Property 5), so one poison record
/// holds its partition for a bounded time only. An unreachable registry (<see cref="SchemaUnavailableException"/>)
/// says nothing about the record: it is waited out in place for <see cref="ProcessorOptions.RegistryOutagePatience"/>,
/// then thrown, which stops the job so that it restarts from its checkpoint; good records never reach
/// the DLQ because of an outage.
/// </summary>
/// <remarks>
/// Runs on the job's consume thread, which blocks while it waits (a record's retries hold only its own
/// job; the loop has a thread of its own). Not thread-safe: one job instance uses it.
/// </remarks>
public sealed class RecordProcessing(
    EventClassifier classifier,
    EventEnricher enricher,
    ProcessorOptions options,
    TimeProvider time,
    ProcessorMetrics? metrics = null,
    CancellationToken stopping = default,
    ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The DLQ <c>error_type</c> of a record whose processing kept throwing.</summary>
    public const string ProcessingFailed = "PROCESSING_FAILED";

    private readonly ExponentialBackoff _backoff = new(options.RetryBaseDelay, options.RetryMaxDelay);

    /// <summary>Processes one record, retrying as the class says.</summary>
    /// <exception cref="SchemaUnavailableException">The registry stayed unreachable past the patience.</exception>
    /// <exception cref="OperationCanceledException">The service is stopping.</exception>
    public ProcessedRecord Process(SourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var consumed = new ConsumedRecord(record.Topic, record.Partition, record.Offset, record.Key, record.Value, [], DateTimeOffset.FromUnixTimeMilliseconds(record.Timestamp));
        var firstAttempt = time.GetUtcNow();
        var retries = 0;
        var outageAttempts = 0;
        string? eventId = null;
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            try
            {
                var classification = Classify(consumed);
                if (classification.Rejection is { } rejection)
                {
                    metrics?.DeadLettered(rejection.ErrorType);
                    ProcessorLog.DeadLettered(_logger, record.Topic, record.Partition, record.Offset, "-", rejection.ErrorType, rejection.Message);
                    return new ProcessedRecord(record, null, rejection.ToDlqMessage(consumed, retries, firstAttempt, time.GetUtcNow()));
                }

                eventId = classification.Event!.EventId;
                // Processed on its first attempt: the clock read then is its processing time (one read per record fewer).
                var processedAt = retries == 0 && outageAttempts == 0 ? firstAttempt : time.GetUtcNow();
                return new ProcessedRecord(record, enricher.Enrich(classification.Event!, consumed.KafkaTimestamp, processedAt), null);
            }
            catch (SchemaUnavailableException) when (time.GetUtcNow() - firstAttempt < options.RegistryOutagePatience)
            {
                metrics?.RegistryRetry();
                Wait(_backoff.Delay(outageAttempts++));
            }
            catch (Exception e) when (e is not SchemaUnavailableException and not OperationCanceledException)
            {
                if (retries < options.MaxRetries)
                {
                    metrics?.ProcessingRetry();
                    var delay = _backoff.Delay(retries++);
                    ProcessorLog.ProcessingRetry(_logger, e, record.Topic, record.Partition, record.Offset, eventId ?? "-", retries, delay);
                    Wait(delay);
                    continue;
                }

                metrics?.DeadLettered(ProcessingFailed);
                ProcessorLog.ProcessingFailed(_logger, e, record.Topic, record.Partition, record.Offset, eventId ?? "-", retries);
                var message = new DlqMessage(record.Value, ProcessingFailed, $"{e.GetType().Name}: {e.Message}", retries, firstAttempt, time.GetUtcNow(),
                    record.Topic, record.Partition, record.Offset);
                return new ProcessedRecord(record, null, message);
            }
        }
    }

    private Classification Classify(ConsumedRecord consumed)
    {
        var pending = classifier.ClassifyAsync(consumed, stopping);
        // Known schema ids are served from memory synchronously; only an id's first lookup waits on
        // the registry, and this thread is the job's own.
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    private void Wait(TimeSpan delay)
    {
        using var elapsed = new ManualResetEventSlim();
        using var timer = time.CreateTimer(static state => ((ManualResetEventSlim)state!).Set(), elapsed, delay, Timeout.InfiniteTimeSpan);
        elapsed.Wait(stopping);
    }
}
