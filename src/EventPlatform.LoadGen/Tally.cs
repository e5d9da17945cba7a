using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace EventPlatform.LoadGen;

/// <summary>
/// The counts and latencies of one phase (warmup or measured), written by every request task.
/// </summary>
/// <remarks>
/// Requests only do interlocked increments and a wait-free <see cref="Recorder"/> write: no lock
/// per request, so the generator does not serialise its own requests. Only
/// <see cref="Snapshot"/>, called once a second, takes a lock.
/// </remarks>
internal sealed class Tally
{
    /// <summary>An hour in microseconds: far beyond any request timeout, so nothing real is clipped.</summary>
    public const long HighestMicros = 3_600_000_000;

    public long Requests;
    public long Ok;
    public long NonSuccess;
    public long TransportErrors;
    public long Dropped;
    public long EventsSent;
    public long EventsAccepted;
    public long EventsRejected;
    public long LastCompletionTimestamp;
    public string? FirstTransportError;

    private readonly long[] byStatus = new long[600];
    private readonly ConcurrentDictionary<string, long> errorKinds = new(StringComparer.Ordinal);
    private readonly Recorder recorder = new(1, HighestMicros, 3, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));
    private readonly LongHistogram cumulative = new(1, HighestMicros, 3);
    private readonly Lock snapshotLock = new();
    private HistogramBase? interval;

    public void RecordResponse(int status, long startTimestamp, int eventsSent, long accepted, long rejected)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref Requests);
        Interlocked.Add(ref EventsSent, eventsSent);
        if (status is >= 200 and < 300)
        {
            Interlocked.Increment(ref Ok);
            Interlocked.Add(ref EventsAccepted, accepted);
            Interlocked.Add(ref EventsRejected, rejected);

            // Only answers that carried data: fast refusals (429, 503) would flatter the latency.
            var micros = Stopwatch.GetElapsedTime(startTimestamp, now).Ticks / (TimeSpan.TicksPerMillisecond / 1000);
            recorder.RecordValue(Math.Clamp(micros, 1, HighestMicros));
        }
        else
        {
            Interlocked.Increment(ref NonSuccess);
            Interlocked.Increment(ref byStatus[status is >= 0 and < 600 ? status : 0]);
        }

        Completed(now);
    }

    public void RecordTransportError(string kind, string message, int eventsSent)
    {
        Interlocked.Increment(ref Requests);
        Interlocked.Add(ref EventsSent, eventsSent);
        Interlocked.Increment(ref TransportErrors);
        Interlocked.CompareExchange(ref FirstTransportError, message, null);
        errorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
        Completed(Stopwatch.GetTimestamp());
    }

    /// <summary>Moves what was recorded since the last call into the running total, and returns the total.</summary>
    public LongHistogram Snapshot()
    {
        lock (snapshotLock)
        {
            interval = interval is null ? recorder.GetIntervalHistogram() : recorder.GetIntervalHistogram(interval);
            cumulative.Add(interval);
            return cumulative;
        }
    }

    public SortedDictionary<int, long> NonSuccessByStatus()
    {
        var result = new SortedDictionary<int, long>();
        for (var code = 0; code < byStatus.Length; code++)
        {
            if (Volatile.Read(ref byStatus[code]) is var n and > 0)
            {
                result[code] = n;
            }
        }

        return result;
    }

    public SortedDictionary<string, long> TransportErrorsByKind() => new(errorKinds, StringComparer.Ordinal);

    private void Completed(long now)
    {
        var last = Volatile.Read(ref LastCompletionTimestamp);
        while (now > last)
        {
            var seen = Interlocked.CompareExchange(ref LastCompletionTimestamp, now, last);
            if (seen == last)
            {
                return;
            }

            last = seen;
        }
    }
}
