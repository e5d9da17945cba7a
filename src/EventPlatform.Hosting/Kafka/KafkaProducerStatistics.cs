using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Kafka;

/// <summary>
/// The producer's metrics, made from librdkafka's statistics reports (every
/// <c>Kafka:Producer:StatisticsIntervalMs</c>, 5 s by default) and published on the meter
/// <see cref="MeterName"/> under the names the Java client's JMX exporter gives them, which
/// Kafka dashboards use: <c>kafka_producer_record_send_rate</c>, <c>..._record_error_rate</c>,
/// <c>..._byte_rate</c>, <c>..._outgoing_byte_rate</c>, <c>..._request_latency_avg</c> and
/// <c>..._max</c> (ms), <c>..._queue_depth</c>, <c>..._queue_bytes</c>, <c>..._brokers_up</c>,
/// <c>..._record_send_total</c> and <c>..._record_error_total</c>, each labelled <c>client_id</c>.
/// </summary>
/// <remarks>
/// <para>
/// Rates are the growth of librdkafka's totals between two reports divided by the time between
/// them (the first report counts from the client's creation). librdkafka does not count failed
/// deliveries, so whoever sees one reports it with <see cref="RecordDeliveryFailure"/>.
/// </para>
/// <para>
/// Reports arrive on librdkafka's polling thread every few seconds, so they are parsed there; a
/// report that cannot be read is logged and skipped. Readers get the latest
/// <see cref="Latest"/> snapshot. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class KafkaProducerStatistics
{
    /// <summary>The meter the producer metrics are published on.</summary>
    public const string MeterName = "EventPlatform.Kafka";

    private readonly ILogger<KafkaProducerStatistics> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _reportGate = new();
    private long _deliveryFailures;
    private long _replacements;
    private (long AgeMicros, long MessagesSent, long MessageBytesSent, long BytesSent, long Failures) _previous;
    private ProducerStatisticsSnapshot? _latest;
    private bool _parseFailureLogged;

    public KafkaProducerStatistics(IMeterFactory meters, TimeProvider time, ILogger<KafkaProducerStatistics> logger)
    {
        _time = time;
        _logger = logger;
        var meter = meters.Create(MeterName);
        Gauge(meter, "kafka_producer_record_send_rate", "{record}/s", "Records sent to Kafka per second, between the last two statistics reports.", s => s.RecordSendRate);
        Gauge(meter, "kafka_producer_record_error_rate", "{record}/s", "Record deliveries that failed per second, between the last two statistics reports.", s => s.RecordErrorRate);
        Gauge(meter, "kafka_producer_byte_rate", "By/s", "Record bytes (with batch framing) sent to Kafka per second.", s => s.ByteRate);
        Gauge(meter, "kafka_producer_outgoing_byte_rate", "By/s", "All bytes sent to the brokers per second, requests included.", s => s.OutgoingByteRate);
        Gauge(meter, "kafka_producer_request_latency_avg", "ms", "Average broker round trip of requests since the previous statistics report, in milliseconds.", s => s.RequestLatencyAvg.TotalMilliseconds);
        Gauge(meter, "kafka_producer_request_latency_max", "ms", "Longest broker round trip of a request since the previous statistics report, in milliseconds.", s => s.RequestLatencyMax.TotalMilliseconds);
        Gauge(meter, "kafka_producer_queue_depth", "{record}", "Records waiting in the producer: queued or in flight, not yet acknowledged.", s => s.QueueDepth);
        Gauge(meter, "kafka_producer_queue_bytes", "By", "Bytes of the records waiting in the producer.", s => s.QueueBytes);
        Gauge(meter, "kafka_producer_brokers_up", "{broker}", "Brokers the producer has an open connection to.", s => s.BrokersUp);
        meter.CreateObservableCounter("kafka_producer_record_send_total", () => Observe(s => s.RecordSendTotal), "{record}", "Records sent to Kafka since the producer started.");
        meter.CreateObservableCounter("kafka_producer_record_error_total", () => Observe(s => s.RecordErrorTotal), "{record}", "Record deliveries that failed since the producer started.");
        meter.CreateObservableCounter("kafka_producer_replacements_total", () => Volatile.Read(ref _replacements), "{producer}",
            "Producers replaced after a fatal error (an idempotent producer then refuses every record until it is closed); any increase deserves a look at the broker.");
    }

    /// <summary>The latest report, or null before the first (or with statistics off).</summary>
    public ProducerStatisticsSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>Counts one record whose delivery failed (a delivery report with an error).</summary>
    public void RecordDeliveryFailure() => Interlocked.Increment(ref _deliveryFailures);

    /// <summary>Counts a producer replaced after a fatal error.</summary>
    public void RecordReplacement() => Interlocked.Increment(ref _replacements);

    /// <summary>Takes one statistics report: librdkafka's JSON, as the statistics handler receives it.</summary>
    public void OnStatistics(string json)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, buffer);
            OnStatistics(LibrdkafkaStatistics.Parse(buffer.AsSpan(0, length)));
        }
        catch (JsonException ex)
        {
            if (!_parseFailureLogged)
            {
                _parseFailureLogged = true;
                LogUnreadable(_logger, ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Takes one parsed statistics report.</summary>
    public void OnStatistics(LibrdkafkaStatistics report)
    {
        lock (_reportGate)
        {
            var failures = Volatile.Read(ref _deliveryFailures);
            var previous = _previous;
            var seconds = (report.AgeMicros - previous.AgeMicros) / 1_000_000.0;
            double Rate(long now, long before) => seconds > 0 ? Math.Max(0, now - before) / seconds : 0;

            var snapshot = new ProducerStatisticsSnapshot(
                ClientId: report.ClientId,
                RecordSendRate: Rate(report.MessagesSent, previous.MessagesSent),
                RecordErrorRate: Rate(failures, previous.Failures),
                ByteRate: Rate(report.MessageBytesSent, previous.MessageBytesSent),
                OutgoingByteRate: Rate(report.BytesSent, previous.BytesSent),
                RequestLatencyAvg: TimeSpan.FromMicroseconds(report.RoundTripAvgMicros),
                RequestLatencyMax: TimeSpan.FromMicroseconds(report.RoundTripMaxMicros),
                QueueDepth: report.QueuedMessages,
                QueueBytes: report.QueuedBytes,
                Brokers: report.Brokers,
                BrokersUp: report.BrokersUp,
                RecordSendTotal: report.MessagesSent,
                RecordErrorTotal: failures,
                ReportedAt: _time.GetUtcNow());
            _previous = (report.AgeMicros, report.MessagesSent, report.MessageBytesSent, report.BytesSent, failures);
            Volatile.Write(ref _latest, snapshot);
        }
    }

    private void Gauge(Meter meter, string name, string unit, string description, Func<ProducerStatisticsSnapshot, double> value) =>
        meter.CreateObservableGauge(name, () => Observe(value), unit, description);

    private IEnumerable<Measurement<double>> Observe(Func<ProducerStatisticsSnapshot, double> value) =>
        Latest is { } s ? [new Measurement<double>(value(s), new KeyValuePair<string, object?>("client_id", s.ClientId))] : [];

    [LoggerMessage(EventId = 1220, Level = LogLevel.Warning, Message = "A librdkafka statistics report could not be read; producer metrics stay as they were")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);
}

/// <summary>The producer's metrics as of one librdkafka statistics report.</summary>
/// <param name="ClientId">The producer's <c>client.id</c>.</param>
/// <param name="RecordSendRate">Records sent per second since the previous report.</param>
/// <param name="RecordErrorRate">Failed record deliveries per second since the previous report.</param>
/// <param name="ByteRate">Record bytes (with batch framing) sent per second.</param>
/// <param name="OutgoingByteRate">All bytes sent to brokers per second.</param>
/// <param name="RequestLatencyAvg">Average broker round trip since the previous report.</param>
/// <param name="RequestLatencyMax">Longest broker round trip since the previous report.</param>
/// <param name="QueueDepth">Records waiting in the producer (queued or in flight).</param>
/// <param name="QueueBytes">Their size in bytes.</param>
/// <param name="Brokers">Brokers the client knows.</param>
/// <param name="BrokersUp">Brokers it has an open connection to.</param>
/// <param name="RecordSendTotal">Records sent since the producer started.</param>
/// <param name="RecordErrorTotal">Failed record deliveries since the producer started.</param>
/// <param name="ReportedAt">When the report arrived.</param>
public sealed record ProducerStatisticsSnapshot(
    string ClientId,
    double RecordSendRate,
    double RecordErrorRate,
    double ByteRate,
    double OutgoingByteRate,
    TimeSpan RequestLatencyAvg,
    TimeSpan RequestLatencyMax,
    long QueueDepth,
    long QueueBytes,
    int Brokers,
    int BrokersUp,
    long RecordSendTotal,
    long RecordErrorTotal,
    DateTimeOffset ReportedAt);
