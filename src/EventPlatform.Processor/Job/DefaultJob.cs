using System.Text;
using System.Text.Json;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Core.Topics;
using EventPlatform.Processor.Output;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Operators;

using Microsoft.Extensions.Logging;

namespace EventPlatform.Processor.Job;

/// <summary>One valid event as the windows see it: its type, its reading and user, who it is about, and where it came from.</summary>
/// <param name="EventType">The event's type (the window key of per-type windows).</param>
/// <param name="Reading">The numeric reading and user the aggregator takes.</param>
/// <param name="Actor">The user (or, without one, the device) that per-user windows are keyed by; null when the event names neither.</param>
/// <param name="Source">The consumed record, for the DLQ when the event is too late.</param>
public sealed record WindowInput(string EventType, Reading Reading, string? Actor, SourceRecord Source);

/// <summary>
/// The platform's default stream-processing job, the seed's Flink pipeline as a <see cref="StreamJob"/>:
/// the three event topics → classify (invalid records to <c>events.dlq</c>) → enrich → key by event type
/// (and by event type and user for per-user windows) → every configured window → the seed's
/// <see cref="EventAggregator"/> → <c>events.aggregated</c> in Confluent's wire format, keyed by
/// <see cref="AggregatedEventKey"/>. Late records past what the policy accepts go to the DLQ as <c>LATE_EVENT</c>.
/// </summary>
public static class DefaultJob
{
    /// <summary>The DLQ <c>error_type</c> of a record too late for its window.</summary>
    public const string LateEvent = "LATE_EVENT";

    private static readonly OutputTag<DlqMessage> DeadLetters = new("dead-letters");

    /// <summary>The three event topics of the seed's plan.</summary>
    public static IReadOnlyList<string> SeedSourceTopics { get; } =
        [.. TopicPlan.Seed.Topics.Where(t => t.Role == TopicRole.Ingest).Select(t => t.Name)];

    /// <summary>Builds the job.</summary>
    /// <param name="options">Windows, late policy, distinct-user counting.</param>
    /// <param name="processing">The per-record step (classification, enrichment, retries).</param>
    /// <param name="encoder">The events.aggregated encoder, with the id the registry gave its schema.</param>
    /// <param name="time">The clock of late records' DLQ attempt times (results carry no clock).</param>
    /// <param name="metrics">Counts of records read and written, or null.</param>
    /// <param name="logger">Where late records sent to the DLQ are logged (at Debug), or null.</param>
    public static StreamJob Create(ProcessorOptions options, RecordProcessing processing, AggregatedEventEncoder encoder, TimeProvider time, ProcessorMetrics? metrics = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(processing);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(time);

        var job = new StreamJob(options.JobName);
        var topics = options.SourceTopics is { Length: > 0 } configured ? configured : SeedSourceTopics;
        // Under scale-out a routed copy runs these steps again (decoding is deterministic, so the
        // result is the same). Not cached: results kept for the second pass lived long enough to be
        // promoted out of gen 0 and cost more in gen-2 collections than the decoding (README, processor).
        var firstReads = new FirstReads();
        var processed = job.Source(topics, record =>
        {
            if (firstReads.IsFirst(record))
            {
                metrics?.Consumed(record.Topic);
            }

            return processing.Process(record);
        }, (result, _) => result.EventTime);

        var valid = processed.Process<WindowInput>((result, context) =>
        {
            if (result.DeadLetter is { } dead)
            {
                context.Emit(DeadLetters, dead);
                return;
            }

            var e = result.Event!;
            context.Emit(new WindowInput(e.Event.EventType, e.Reading, e.Event.UserId ?? e.Event.DeviceId, result.Source));
        });
        valid.SideOutput(DeadLetters).SinkTo(TopicPlan.DeadLetter, DeadLetterKey, dead => DeadLetterValue(dead, metrics));

        var aggregator = new WindowInputAggregator(new EventAggregator(options.DistinctUsers == DistinctUsersMode.HyperLogLog ? options.HyperLogLogPrecision : null));
        var byType = valid.KeyBy(input => input.EventType);
        // Per-user keys are "{event_type}|{user}": event types never hold a '|'.
        var byUser = valid.Filter(input => input.Actor is not null).KeyBy(input => input.EventType + "|" + input.Actor);
        foreach (var window in options.EffectiveWindows)
        {
            var results = (window.PerUser ? byUser : byType)
                .Window(new WindowDefinition(window.Assigner(), options.EffectiveLatePolicy))
                .Aggregate(aggregator, EventAggregator.AccumulatorSerializer);
            var perUser = window.PerUser;
            results.SinkTo(
                AggregatedEventSchema.Topic,
                result =>
                {
                    var (type, user) = SplitKey(result.Key, perUser);
                    return AggregatedEventKey.Utf8(type, result.Window, user);
                },
                result =>
                {
                    var (type, user) = SplitKey(result.Key, perUser);
                    metrics?.Emitted(AggregatedEventSchema.Topic);
                    return encoder.Encode(type, result.Window, user, result.Result, result.IsUpdate);
                });
            results.LateRecords
                .Map(late =>
                {
                    var now = time.GetUtcNow();
                    var source = late.Input.Source;
                    metrics?.DeadLettered(LateEvent);
                    if (logger is not null)
                    {
                        ProcessorLog.LateEvent(logger, source.Topic, source.Partition, source.Offset, late.Window.ToString(), late.Reason.ToString());
                    }

                    return new DlqMessage(source.Value, LateEvent,
                        $"The event at {DateTimeOffset.FromUnixTimeMilliseconds(late.Timestamp):O} came after its window {late.Window} had closed ({late.Reason}).",
                        0, now, now, source.Topic, source.Partition, source.Offset);
                })
                .SinkTo(TopicPlan.DeadLetter, DeadLetterKey, dead => DeadLetterValue(dead, metrics));
        }

        return job;
    }

    /// <summary>A DLQ record's key, <c>{topic}|{partition}|{offset}</c>: a replay writes the same key.</summary>
    public static byte[] DeadLetterKey(DlqMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Encoding.UTF8.GetBytes($"{message.SourceTopic}|{message.SourcePartition}|{message.SourceOffset}");
    }

    private static byte[] DeadLetterValue(DlqMessage message, ProcessorMetrics? metrics)
    {
        metrics?.Emitted(TopicPlan.DeadLetter);
        return JsonSerializer.SerializeToUtf8Bytes(message, CoreJsonContext.Api.DlqMessage);
    }

    private static (string EventType, string? User) SplitKey(string key, bool perUser)
    {
        if (!perUser)
        {
            return (key, null);
        }

        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return (key[..bar], key[(bar + 1)..]);
    }

    /// <summary>The seed's aggregator over <see cref="WindowInput"/>.</summary>
    private sealed class WindowInputAggregator(EventAggregator inner) : IAggregateFunction<WindowInput, ReadingAccumulator, AggregatedReadings>
    {
        public ReadingAccumulator CreateAccumulator() => inner.CreateAccumulator();

        public ReadingAccumulator Add(ReadingAccumulator accumulator, WindowInput input) => inner.Add(accumulator, input.Reading);

        // When a record moves a session's start or bridges sessions, the engine merges the parts into a fresh
        // accumulator and drops them: taking the first part as it is saves copying its distinct-user set.
        public ReadingAccumulator Merge(ReadingAccumulator first, ReadingAccumulator second) => first.Count == 0 ? second : inner.Merge(first, second);

        public AggregatedReadings GetResult(ReadingAccumulator accumulator) => inner.GetResult(accumulator);
    }
}
