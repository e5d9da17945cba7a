using EventPlatform.Core.Events;
using EventPlatform.Streaming.Aggregation;

namespace EventPlatform.Processor.Enrichment;

/// <summary>
/// A valid event with what the processor adds to it: when it was processed, how long after it
/// happened, and its numeric reading for the aggregations.
/// </summary>
/// <param name="Event">The event as read.</param>
/// <param name="ProcessingTime">When the processor handled it (its clock).</param>
/// <param name="IngestionDelay">Processing time minus the event's timestamp: end-to-end delay (negative when the producer's clock runs ahead).</param>
/// <param name="KafkaTimestamp">The record's Kafka timestamp.</param>
/// <param name="ConsumeDelay">
/// Processing time minus <paramref name="KafkaTimestamp"/>: with <c>LogAppendTime</c> topics, how long
/// the record waited in Kafka; with <c>CreateTime</c> (the gateway writes the event's timestamp) it
/// equals <paramref name="IngestionDelay"/>.
/// </param>
/// <param name="Value">The numeric reading, or null when the event has none.</param>
public sealed record EnrichedEvent(
    IngestEvent Event,
    DateTimeOffset ProcessingTime,
    TimeSpan IngestionDelay,
    DateTimeOffset KafkaTimestamp,
    TimeSpan ConsumeDelay,
    double? Value)
{
    /// <summary>The event as the aggregator sees it: its reading and its user.</summary>
    public Reading Reading => new(Value, Event.UserId);
}

/// <summary>The enrichment step of the default job (the seed's <c>map(enrichEvent)</c>). Thread-safe.</summary>
public sealed class EventEnricher(ReadingExtractor readings, TimeProvider time)
{
    /// <summary>Enriches <paramref name="e"/> at the clock's current time.</summary>
    public EnrichedEvent Enrich(IngestEvent e, DateTimeOffset kafkaTimestamp) => Enrich(e, kafkaTimestamp, time.GetUtcNow());

    /// <summary>Enriches <paramref name="e"/> as processed at <paramref name="processingTime"/> (one clock read for a whole batch).</summary>
    public EnrichedEvent Enrich(IngestEvent e, DateTimeOffset kafkaTimestamp, DateTimeOffset processingTime)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new EnrichedEvent(e, processingTime, processingTime - e.Timestamp, kafkaTimestamp, processingTime - kafkaTimestamp, readings.ReadingOf(e));
    }
}
