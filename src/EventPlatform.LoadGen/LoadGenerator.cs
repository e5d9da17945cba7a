using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HdrHistogram;

namespace EventPlatform.LoadGen;

/// <summary>Drives the ingestion gateway with events and measures what it can take.</summary>
public static class LoadGenerator
{
    /// <summary>
    /// Runs the warmup and then the measured period, writing a progress line a second to
    /// <paramref name="output"/>. Cancelling stops the run early and aborts the requests in
    /// flight (they are counted nowhere); the report covers what was measured until then.
    /// </summary>
    public static async Task<LoadGenReport> RunAsync(LoadGenOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();

        using var process = Process.GetCurrentProcess();
        var cpuAtStart = process.TotalProcessorTime;
        var wallStart = Stopwatch.GetTimestamp();

        // Schema ids are looked up before the clock starts: a registry that cannot answer ends the run here.
        var bodies = await RegistryLookup.BodiesAsync(options, new EventBodyFactory(options.Topic, Guid.NewGuid().ToString("N")[..12]), cancellationToken).ConfigureAwait(false);
        using var client = CreateClient(options);
        var run = new LoadRun(options, client, output, bodies);
        var result = await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);

        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuAtStart;
        var report = run.BuildReport(result, cpu, Stopwatch.GetElapsedTime(wallStart), cancellationToken.IsCancellationRequested);
        if (!string.IsNullOrEmpty(options.JsonOutputPath))
        {
            // Written even after Ctrl-C: a partial report is still worth keeping.
            await File.WriteAllTextAsync(options.JsonOutputPath, report.ToJson(), CancellationToken.None).ConfigureAwait(false);
        }

        return report;
    }

    /// <summary>
    /// One pool of plain HTTP/1.1 connections, as a fleet of simple clients would use: no proxy,
    /// no decompression, connections kept for the whole run so reconnects are not measured.
    /// </summary>
    internal static HttpClient CreateClient(LoadGenOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(options.Token))
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + options.Token);
        }

        return client;
    }
}

/// <summary>The state of one run: its clock, its two tallies, and the requests in flight.</summary>
internal sealed class LoadRun(LoadGenOptions options, HttpClient client, TextWriter output, RequestBodies bodies)
{
    private readonly Uri uri = new(options.Url.TrimEnd('/') + "/api/v1/events/" + Uri.EscapeDataString(options.Topic) + (options.BatchSize > 1 ? "/batch" : ""));
    private readonly Tally warmup = new();
    private readonly Tally measured = new();
    private readonly LongHistogram sendLag = new(Tally.HighestMicros, 3);
    private long startTimestamp;
    private long warmupEndTimestamp;
    private long endTimestamp;
    private long inFlight;
    private long completed;
    private long eventsAccepted;

    private bool IsBatch => options.BatchSize > 1;

    /// <summary>Runs to the end (or cancellation) and returns when no request is in flight any more.</summary>
    public async Task<long> ExecuteAsync(CancellationToken ct)
    {
        startTimestamp = Stopwatch.GetTimestamp();
        warmupEndTimestamp = startTimestamp + Ticks(options.Warmup);
        endTimestamp = warmupEndTimestamp + Ticks(options.Duration);

        using var stopProgress = new CancellationTokenSource();
        var progress = ProgressAsync(stopProgress.Token);
        if (options.Rate > 0)
        {
            await Task.Factory.StartNew(() => OpenLoop(ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);

            // Requests end by answer, by the 30 s timeout, or at once on cancellation.
            while (Volatile.Read(ref inFlight) > 0)
            {
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }
        }
        else
        {
            var workers = Enumerable.Range(0, options.Concurrency).Select(_ => WorkerAsync(ct)).ToArray();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        await stopProgress.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);

        // A full run's schedule covers the whole window; a cancelled one ends when it was cancelled.
        return ct.IsCancellationRequested ? Math.Min(Stopwatch.GetTimestamp(), endTimestamp) : endTimestamp;
    }

    /// <summary>
    /// Fires requests on a fixed schedule, whether or not earlier ones were answered. Why: a
    /// client that waits for answers slows down exactly when the server does, and its latencies
    /// then hide the queue ("coordinated omission"). Here request <c>i</c> is due at
    /// <c>start + i / rate</c>, and its latency counts from that moment, so any delay in sending
    /// it (a late wake-up, a full connection pool) shows in the numbers instead of vanishing.
    /// </summary>
    /// <remarks>
    /// Runs on a thread of its own that sleeps with <see cref="Thread.Sleep(int)"/>: it wakes
    /// within about 1.1 ms, where <c>Task.Delay(1)</c> measured 4+ ms on Linux, and it does not
    /// spin on a CPU the gateway needs. Requests due meanwhile go out together at the next wake-up,
    /// and how late they left is kept in <see cref="sendLag"/>.
    /// </remarks>
    private void OpenLoop(CancellationToken ct)
    {
        var ticksPerRequest = Stopwatch.Frequency / options.Rate;
        long next = 0;
        while (!ct.IsCancellationRequested)
        {
            long due;
            while ((due = startTimestamp + (long)(next * ticksPerRequest)) <= Stopwatch.GetTimestamp() && due < endTimestamp)
            {
                next++;
                var tally = due < warmupEndTimestamp ? warmup : measured;
                if (Volatile.Read(ref inFlight) >= options.MaxInFlight)
                {
                    Interlocked.Increment(ref tally.Dropped);
                    continue;
                }

                if (tally == measured)
                {
                    sendLag.RecordValue(Math.Clamp(Stopwatch.GetElapsedTime(due).Ticks / (TimeSpan.TicksPerMillisecond / 1000), 0, Tally.HighestMicros));
                }

                Interlocked.Increment(ref inFlight);
                _ = SendAsync(due, tally, ct);
            }

            if (due >= endTimestamp)
            {
                return;
            }

            var waitMs = (int)Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due).TotalMilliseconds;
            Thread.Sleep(Math.Clamp(waitMs, 1, 50));
        }
    }

    /// <summary>One closed-loop worker: the next request leaves as soon as the last one is answered.</summary>
    private async Task WorkerAsync(CancellationToken ct)
    {
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= endTimestamp)
            {
                return;
            }

            Interlocked.Increment(ref inFlight);
            await SendAsync(start, start < warmupEndTimestamp ? warmup : measured, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Sends one request and tallies its outcome, with latency counted from <paramref name="latencyFrom"/>. Never throws.</summary>
    private async Task SendAsync(long latencyFrom, Tally tally, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(bodies.Create(options.BatchSize, IsBatch)),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", bodies.ContentType);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            (long accepted, long rejected) = (options.BatchSize, 0);
            if (status == 207)
            {
                (accepted, rejected) = ReadBatchCounts(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
            }

            tally.RecordResponse(status, latencyFrom, options.BatchSize, accepted, rejected);
            Interlocked.Increment(ref completed);
            if (status is >= 200 and < 300)
            {
                Interlocked.Add(ref eventsAccepted, accepted);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Aborted by the user: neither a success nor a failure of the gateway.
        }
        catch (Exception ex)
        {
            // Timeouts, refused or reset connections: the request got no HTTP answer.
            tally.RecordTransportError(Describe(ex), ex.Message, options.BatchSize);
            Interlocked.Increment(ref completed);
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    /// <summary>The <c>accepted</c> and <c>rejected</c> counts of a 207 batch answer.</summary>
    internal static (long Accepted, long Rejected) ReadBatchCounts(ReadOnlySpan<byte> json)
    {
        long accepted = 0, rejected = 0;
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isAccepted = reader.ValueTextEquals("accepted"u8);
                    var isRejected = reader.ValueTextEquals("rejected"u8);
                    reader.Read();
                    if ((isAccepted || isRejected) && reader.TokenType == JsonTokenType.Number)
                    {
                        _ = isAccepted ? reader.TryGetInt64(out accepted) : reader.TryGetInt64(out rejected);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A garbled answer: count what was read so far.
        }

        return (accepted, rejected);
    }

    private static string Describe(Exception ex) => ex switch
    {
        OperationCanceledException => "timeout",
        HttpRequestException { InnerException: SocketException s } => $"connection: {s.SocketErrorCode}",
        HttpRequestException h => $"http: {h.HttpRequestError}",
        _ => ex.GetType().Name,
    };

    /// <summary>A line a second: plain text, so it reads the same in a terminal and in a CI log.</summary>
    private async Task ProgressAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var (lastTimestamp, lastCompleted, lastEvents) = (startTimestamp, 0L, 0L);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var (done, events) = (Volatile.Read(ref completed), Volatile.Read(ref eventsAccepted));
                var seconds = Stopwatch.GetElapsedTime(lastTimestamp, now).TotalSeconds;
                // The phase that most of the last second belonged to, so a tick just past a
                // boundary does not show the new phase with nothing in it yet.
                var middle = (lastTimestamp + now) / 2;
                var phase = middle < warmupEndTimestamp ? "warmup" : middle < endTimestamp ? "run" : "drain";
                var tally = middle < warmupEndTimestamp ? warmup : measured;
                var p99 = Percentile(tally.Snapshot(), 99) / 1000.0;
                output.WriteLine(FormattableString.Invariant(
                    $"{Stopwatch.GetElapsedTime(startTimestamp, now).TotalSeconds,6:F1}s {phase,-6} {(done - lastCompleted) / seconds,8:F0} req/s {(events - lastEvents) / seconds,9:F0} events/s  ok {Volatile.Read(ref tally.Ok)}  errors {Volatile.Read(ref tally.NonSuccess) + Volatile.Read(ref tally.TransportErrors)}  dropped {Volatile.Read(ref tally.Dropped)}  in-flight {Volatile.Read(ref inFlight)}  p99 {p99:F2} ms"));
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                (lastTimestamp, lastCompleted, lastEvents) = (now, done, events);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    public LoadGenReport BuildReport(long sendingStopped, TimeSpan cpu, TimeSpan wall, bool cancelled)
    {
        var histogram = measured.Snapshot();

        // The measured period runs until the last measured request was answered: requests still
        // queued at the end are part of what the gateway had to do in that period.
        var end = Math.Max(sendingStopped, Volatile.Read(ref measured.LastCompletionTimestamp));
        var seconds = end > warmupEndTimestamp ? Stopwatch.GetElapsedTime(warmupEndTimestamp, end).TotalSeconds : 0;
        double PerSecond(long n) => seconds > 0 ? n / seconds : 0;
        double Ms(double percentile) => Percentile(histogram, percentile) / 1000.0;

        return new LoadGenReport(
            Url: options.Url,
            Topic: options.Topic,
            Format: options.Format.ToString().ToLowerInvariant(),
            Mode: options.Rate > 0 ? "open" : "closed",
            TargetRate: options.Rate,
            Concurrency: options.Rate > 0 ? 0 : options.Concurrency,
            BatchSize: options.BatchSize,
            Connections: options.Connections,
            MaxInFlight: options.MaxInFlight,
            WarmupSeconds: options.Warmup.TotalSeconds,
            MeasuredSeconds: seconds,
            Cancelled: cancelled,
            Requests: measured.Requests,
            Ok: measured.Ok,
            NonSuccess: measured.NonSuccess,
            NonSuccessByStatus: measured.NonSuccessByStatus(),
            TransportErrors: measured.TransportErrors,
            TransportErrorsByKind: measured.TransportErrorsByKind(),
            FirstTransportError: measured.FirstTransportError ?? warmup.FirstTransportError,
            Dropped: measured.Dropped,
            EventsSent: measured.EventsSent,
            EventsAccepted: measured.EventsAccepted,
            EventsRejected: measured.EventsRejected,
            OkRequestsPerSecond: PerSecond(measured.Ok),
            EventsPerSecond: PerSecond(measured.EventsAccepted),
            LatencyMs: new LatencySummary(
                Count: histogram.TotalCount,
                P50: Ms(50),
                P95: Ms(95),
                P99: Ms(99),
                P999: Ms(99.9),
                Max: histogram.TotalCount > 0 ? histogram.GetMaxValue() / 1000.0 : 0,
                Mean: histogram.TotalCount > 0 ? histogram.GetMean() / 1000.0 : 0),
            SendLagP99Ms: Percentile(sendLag, 99) / 1000.0,
            SendLagMaxMs: sendLag.TotalCount > 0 ? sendLag.GetMaxValue() / 1000.0 : 0,
            GeneratorCpuSeconds: cpu.TotalSeconds,
            GeneratorCpuCores: wall.TotalSeconds > 0 ? cpu.TotalSeconds / wall.TotalSeconds : 0,
            ProcessorCount: Environment.ProcessorCount);
    }

    /// <summary>HdrHistogram throws for an empty histogram; no answers yet reads as 0 here.</summary>
    private static long Percentile(HistogramBase histogram, double percentile) =>
        histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(percentile) : 0;

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
