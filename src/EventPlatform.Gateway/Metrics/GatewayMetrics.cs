using System.Diagnostics.Metrics;
using EventPlatform.Core.Topics;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Hosting.Metrics;

namespace EventPlatform.Gateway.Metrics;

/// <summary>
/// What the gateway counts about events, on the meter <see cref="MeterName"/> (exported to
/// <c>/metrics</c> by the host): <c>events_published_total{topic}</c>,
/// <c>events_rejected_total{error_code}</c>, <c>kafka_publish_retries_total</c>,
/// <c>kafka_publish_failures_total</c> and <c>event_publish_duration_seconds{topic}</c>.
/// </summary>
/// <remarks>
/// One call per outcome, from the publisher and the events API. Every call is a few interlocked
/// updates: no lock, fit for the publish path at 10,000+ events/s. Thread-safe.
/// </remarks>
public sealed class GatewayMetrics : IDisposable
{
    /// <summary>The gateway's meter.</summary>
    public const string MeterName = "EventPlatform.Gateway";

    /// <summary>1 ms to 8 s, doubling: linger (10 ms) and an acks=all round trip up to librdkafka's retries.</summary>
    private static readonly double[] PublishDurationBuckets = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

    private readonly Counter<long> _published;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _publishDuration;
    private readonly KafkaProducerStatistics _producer;
    private long _publishedTotal;

    public GatewayMetrics(IMeterFactory meters, KafkaProducerStatistics producer, TopicPlan plan, TimeProvider time)
    {
        _producer = producer;
        var meter = meters.Create(MeterName);
        _published = meter.CreateCounter<long>("events_published_total", "{event}", "Events Kafka acknowledged, by topic.");
        _rejected = meter.CreateCounter<long>("events_rejected_total", "{event}", "Events the API refused, by error_code: each refused single-event request and each rejected batch slot (a batch refused whole counts once).");
        _retries = meter.CreateCounter<long>("kafka_publish_retries_total", "{attempt}", "Publish attempts that failed with the record not persisted and were tried again after the backoff.");
        _failures = meter.CreateCounter<long>("kafka_publish_failures_total", "{event}", "Events Kafka did not take after every attempt (answered 503 KAFKA_UNAVAILABLE or 413).");
        _publishDuration = meter.CreateHistogram("event_publish_duration_seconds", "s",
            "Time from handing an event to the producer to Kafka's acknowledgement (retries included), by topic.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PublishDurationBuckets });

        // Series that exist from the start: a rate over a missing series is "no data", not 0.
        _retries.Add(0);
        _failures.Add(0);
        foreach (var topic in plan.Topics.Where(t => t.EventType is not null))
        {
            _published.Add(0, new KeyValuePair<string, object?>("topic", topic.Name));
        }

        EventRate = new RateWindow(() => EventsPublishedTotal, time, HttpRequestMetrics.ServiceWindow);
    }

    /// <summary>Events acknowledged by Kafka since start.</summary>
    public long EventsPublishedTotal => Volatile.Read(ref _publishedTotal);

    /// <summary>Events acknowledged per second over the last <see cref="HttpRequestMetrics.ServiceWindow"/>.</summary>
    public RateWindow EventRate { get; }

    /// <summary>An event was acknowledged by Kafka <paramref name="elapsed"/> after it was first handed to the producer.</summary>
    public void EventPublished(string topic, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("topic", topic);
        _published.Add(1, tag);
        _publishDuration.Record(elapsed.TotalSeconds, tag);
        Interlocked.Increment(ref _publishedTotal);
    }

    /// <summary>The API refused an event with <paramref name="errorCode"/>.</summary>
    public void EventRejected(string errorCode) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("error_code", errorCode));

    /// <summary>A delivery failed with the record not persisted, and will be tried again.</summary>
    public void PublishRetried()
    {
        _retries.Add(1);
        _producer.RecordDeliveryFailure();
    }

    /// <summary>A delivery failed and the event is given up on.</summary>
    public void PublishFailed()
    {
        _failures.Add(1);
        _producer.RecordDeliveryFailure();
    }

    public void Dispose() => EventRate.Dispose();
}
