using System.Diagnostics.Metrics;

namespace EventPlatform.Sink;

/// <summary>
/// What the sink counts, on the meter <see cref="MeterName"/> (exported to <c>/metrics</c> by the host):
/// <c>sink_rows_written_total{table}</c>, <c>sink_flushes_total{reason}</c>,
/// <c>sink_dlq_records_total{error_type}</c>, <c>sink_write_retries_total</c> and
/// <c>sink_partitions_paused_total</c>, and the histogram <c>eventplatform_end_to_end_latency_seconds</c>. Thread-safe.
/// </summary>
public sealed class SinkMetrics
{
    public const string MeterName = "EventPlatform.Sink";

    private readonly Counter<long> _rows;
    private readonly Counter<long> _flushes;
    private readonly Counter<long> _dlq;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _paused;
    private readonly Histogram<double> _endToEnd;
    private long _rowsTotal;
    private long _dlqTotal;

    public SinkMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _rows = meter.CreateCounter<long>("sink_rows_written_total", "{row}", "Rows committed to the warehouse, by table (an upsert of a replayed row counts again).");
        _flushes = meter.CreateCounter<long>("sink_flushes_total", "{flush}", "Partition buffers written, by reason (count, size, time, shutdown).");
        _dlq = meter.CreateCounter<long>("sink_dlq_records_total", "{record}", "Records sent to events.dlq, by error_type.");
        _retries = meter.CreateCounter<long>("sink_write_retries_total", "{attempt}", "Warehouse writes that failed and were tried again after the backoff.");
        // Name fixed: the alert rules use it. Buckets from 5 ms to ~80 s.
        _endToEnd = meter.CreateHistogram("eventplatform_end_to_end_latency_seconds", "s",
            "Time from an event's acceptance by the gateway (its eventplatform-accepted-at header; else its Kafka record timestamp) to its row committed in the warehouse, observed per row at commit.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120] });
        _paused = meter.CreateCounter<long>("sink_partitions_paused_total", "{pause}", "Partitions paused because the warehouse or the registry stayed away longer than the retries.");
    }

    /// <summary>Rows committed since start (for tests and the summary).</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsTotal);

    /// <summary>Records sent to the DLQ since start.</summary>
    public long DeadLettered => Interlocked.Read(ref _dlqTotal);

    public void Written(string table, int rows)
    {
        _rows.Add(rows, new KeyValuePair<string, object?>("table", table));
        Interlocked.Add(ref _rowsTotal, rows);
    }

    /// <summary>Observes the end-to-end latency of every row just committed at <paramref name="committedAt"/>.</summary>
    public void Committed(IReadOnlyList<Transformation.WarehouseRow> rows, DateTimeOffset committedAt)
    {
        foreach (var row in rows)
        {
            if (row.AcceptedAt is { } accepted)
            {
                // A producer clock ahead of ours would give a negative age: counted as zero.
                _endToEnd.Record(Math.Max(0, (committedAt - accepted).TotalSeconds));
            }
        }
    }

    public void Flushed(Buffering.FlushReason reason) =>
        _flushes.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString().ToLowerInvariant()));

    public void DeadLetter(string errorType)
    {
        _dlq.Add(1, new KeyValuePair<string, object?>("error_type", errorType));
        Interlocked.Increment(ref _dlqTotal);
    }

    public void Retried() => _retries.Add(1);

    public void Paused() => _paused.Add(1);
}
