using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using HdrHistogram;
using static System.FormattableString;

namespace EventPlatform.LoadGen;

/// <summary>What the WebSocket fan-out benchmark does: how many subscribers, how fast it publishes, how long.</summary>
public sealed class WsFanoutOptions
{
    /// <summary>The gateway's base address (http or https; the WebSocket address is derived from it).</summary>
    public string Url { get; set; } = "http://127.0.0.1:8000";

    /// <summary>The topic to publish to and subscribe to.</summary>
    public string Topic { get; set; } = "iot.sensors";

    /// <summary>WebSocket subscribers of the topic's stream.</summary>
    public int Subscribers { get; set; } = 100;

    /// <summary>Events published per second, on a fixed schedule (open loop).</summary>
    public double Rate { get; set; } = 1000;

    /// <summary>"http" (one POST per event) or "ws" (one WebSocket ingest connection, one frame per event).</summary>
    public string Publish { get; set; } = "http";

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Published first and not measured.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After publishing ends, how long to wait for the last deliveries.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most HTTP connections of the publisher.</summary>
    public int Connections { get; set; } = 64;

    /// <summary>Most publishes in flight; a publish due beyond it is dropped and counted.</summary>
    public int MaxInFlight { get; set; } = 10_000;

    public string? Token { get; set; }

    public string? JsonOutputPath { get; set; }

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Url must be an absolute http(s) address, not '{Url}'.", nameof(Url));
        }

        if (string.IsNullOrWhiteSpace(Topic))
        {
            throw new ArgumentException("Topic is required.", nameof(Topic));
        }

        if (Publish is not ("http" or "ws"))
        {
            throw new ArgumentException($"Publish must be 'http' or 'ws', not '{Publish}'.", nameof(Publish));
        }

        Check(Subscribers >= 1, nameof(Subscribers), "must be at least 1");
        Check(double.IsFinite(Rate) && Rate > 0, nameof(Rate), "must be a positive number of events per second");
        Check(Duration > TimeSpan.Zero, nameof(Duration), "must be positive");
        Check(Warmup >= TimeSpan.Zero, nameof(Warmup), "must not be negative");
        Check(DrainTimeout >= TimeSpan.Zero, nameof(DrainTimeout), "must not be negative");
        Check(Connections >= 1, nameof(Connections), "must be at least 1");
        Check(MaxInFlight >= 1, nameof(MaxInFlight), "must be at least 1");

        static void Check(bool ok, string name, string rule)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, $"{name} {rule}.");
            }
        }
    }
}

/// <summary>What one fan-out run measured. Counts and latencies cover the events whose publish was due in the measured period.</summary>
/// <param name="Published">Events of the measured period the gateway acknowledged.</param>
/// <param name="PublishErrors">Events of the measured period the gateway refused or did not answer.</param>
/// <param name="Dropped">Events due but not sent because <c>MaxInFlight</c> publishes were already out.</param>
/// <param name="Delivered">Frames of measured events received, all subscribers together.</param>
/// <param name="ExpectedDeliveries"><paramref name="Published"/> × subscribers still connected at the end.</param>
/// <param name="DeliveriesPerSecond">Delivered frames per second of the measured period, all subscribers together.</param>
/// <param name="LatencyMs">From each event's intended publish time to its receipt by a subscriber, every delivery counted.</param>
/// <param name="ClosedEarly">Subscribers whose socket closed during the run, by close status (e.g. 1008 slow consumer).</param>
public sealed record WsFanoutReport(
    string Url,
    string Topic,
    int Subscribers,
    double Rate,
    string Publish,
    double MeasuredSeconds,
    long Published,
    long PublishErrors,
    long Dropped,
    long Delivered,
    long ExpectedDeliveries,
    double DeliveriesPerSecond,
    double PublishedPerSecond,
    LatencySummary LatencyMs,
    IReadOnlyDictionary<string, int> ClosedEarly,
    double GeneratorCpuSeconds,
    double GeneratorCpuCores,
    int ProcessorCount,
    bool Cancelled)
{
    /// <summary>Every expected delivery arrived and every publish was acknowledged.</summary>
    [JsonIgnore]
    public bool Succeeded => Published > 0 && PublishErrors == 0 && Dropped == 0 && Delivered >= ExpectedDeliveries && ClosedEarly.Count == 0;

    public string ToJson() => JsonSerializer.Serialize(this, WsFanoutJsonContext.Default.WsFanoutReport);

    public void WriteSummary(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(Invariant($"WebSocket fan-out: {Subscribers} subscribers of {Topic}, publishing {Rate:N0} events/s over {Publish}, {Url}{(Cancelled ? " (CANCELLED)" : "")}"));
        writer.WriteLine(Invariant($"  measured     {MeasuredSeconds:F2} s"));
        writer.WriteLine(Invariant($"  published    {Published:N0} acknowledged ({PublishedPerSecond:N1}/s), {PublishErrors:N0} errors, {Dropped:N0} dropped"));
        var share = ExpectedDeliveries > 0 ? 100.0 * Delivered / ExpectedDeliveries : 0;
        writer.WriteLine(Invariant($"  delivered    {Delivered:N0} of {ExpectedDeliveries:N0} expected ({share:F2} %) = {DeliveriesPerSecond:N0} deliveries/s ({DeliveriesPerSecond / Math.Max(1, Subscribers):N1} events/s per subscriber)"));
        writer.WriteLine(Invariant($"  latency ms   p50 {LatencyMs.P50:F2}  p95 {LatencyMs.P95:F2}  p99 {LatencyMs.P99:F2}  p99.9 {LatencyMs.P999:F2}  max {LatencyMs.Max:F2}  ({LatencyMs.Count:N0} deliveries, intended publish time to WebSocket receipt)"));
        writer.WriteLine(ClosedEarly.Count == 0
            ? "  subscribers  none closed early"
            : "  subscribers  closed early: " + string.Join(", ", ClosedEarly.Select(c => Invariant($"{c.Key} x{c.Value}"))));
        writer.WriteLine(Invariant($"  generator    {GeneratorCpuSeconds:F2} s CPU = {GeneratorCpuCores:F2} of {ProcessorCount} cores"));
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(WsFanoutReport))]
internal sealed partial class WsFanoutJsonContext : JsonSerializerContext;

/// <summary>
/// The WebSocket fan-out benchmark: N subscribers of a topic's stream, events published at a fixed
/// rate, and for every delivery the time from the event's intended publish time (carried in its
/// payload as <c>sent_at_ticks</c>, a <see cref="Stopwatch"/> timestamp of this process) to its
/// receipt.
/// </summary>
public static class WsFanout
{
    public static async Task<WsFanoutReport> RunAsync(WsFanoutOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();
        using var process = Process.GetCurrentProcess();
        var cpuAtStart = process.TotalProcessorTime;
        var wallStart = Stopwatch.GetTimestamp();

        var run = new FanoutRun(options, output);
        var cancelled = false;
        try
        {
            await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }
        finally
        {
            run.RecordSubscriberStates();
            await run.DisposeAsync().ConfigureAwait(false);
        }

        process.Refresh();
        var report = run.BuildReport(process.TotalProcessorTime - cpuAtStart, Stopwatch.GetElapsedTime(wallStart), cancelled);
        if (!string.IsNullOrEmpty(options.JsonOutputPath))
        {
            await File.WriteAllTextAsync(options.JsonOutputPath, report.ToJson(), CancellationToken.None).ConfigureAwait(false);
        }

        return report;
    }

    /// <summary>The event type that routes to a topic: the plan's, or the topic's own name for a dynamic topic.</summary>
    internal static string EventTypeFor(string topic)
    {
        var name = topic.StartsWith("events.", StringComparison.Ordinal) ? topic["events.".Length..] : topic;
        return name switch
        {
            "iot.sensors" => "iot.sensor",
            "transactions" => "transaction",
            _ => name,
        };
    }

    /// <summary>
    /// Reads <c>event_id</c> and <c>payload.sent_at_ticks</c> from a stream frame; false for frames
    /// that are not events of this run (the subscribed frame, other traffic on the topic).
    /// </summary>
    internal static bool TryReadSentAt(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> eventIdPrefix, out long sentAt)
    {
        sentAt = 0;
        var ours = false;
        var found = false;
        var inPayload = false;
        var reader = new Utf8JsonReader(frame);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    inPayload = reader.ValueTextEquals("payload"u8);
                }

                if (reader.CurrentDepth == 1 && reader.ValueTextEquals("event_id"u8))
                {
                    reader.Read();
                    ours = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.StartsWith(eventIdPrefix);
                }
                else if (inPayload && reader.CurrentDepth == 2 && reader.ValueTextEquals("sent_at_ticks"u8))
                {
                    reader.Read();
                    found = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out sentAt);
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return ours && found;
    }
}

/// <summary>One run: the subscribers, the publisher, and what they counted.</summary>
internal sealed class FanoutRun(WsFanoutOptions options, TextWriter output) : IAsyncDisposable
{
    private readonly string runId = Guid.NewGuid().ToString("N")[..12];
    private readonly string eventType = WsFanout.EventTypeFor(options.Topic);
    private readonly List<Subscriber> subscribers = [];
    private readonly Channel<long> due = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private HttpClient? http;
    private ClientWebSocket? ingest;
    private long warmupEnd;
    private long measureEnd;
    private long sequence;
    private long inFlight;
    private long published;
    private long publishErrors;
    private long dropped;
    private long measuredPublished;
    private long firstMeasured = long.MaxValue;
    private int stillOpen;
    private Dictionary<string, int> closedEarly = new(StringComparer.Ordinal);

    private byte[] EventIdPrefix => Encoding.UTF8.GetBytes("evt_fan_" + runId + "_");

    public async Task ExecuteAsync(CancellationToken ct)
    {
        var baseUri = new Uri(options.Url.TrimEnd('/') + "/");
        var wsBase = new UriBuilder(baseUri) { Scheme = baseUri.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
        var topic = Uri.EscapeDataString(options.Topic);

        output.WriteLine(Invariant($"connecting {options.Subscribers} subscribers to {new Uri(wsBase, "api/v1/stream/" + topic)} ..."));
        var prefix = EventIdPrefix;
        for (var i = 0; i < options.Subscribers; i++)
        {
            subscribers.Add(new Subscriber(prefix));
        }

        // A few at a time: a hundred upgrades at once would queue behind each other anyway.
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(subscribers.Select(async s =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await s.ConnectAsync(new Uri(wsBase, "api/v1/stream/" + topic), options.Token, ct).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
        }

        if (options.Publish == "ws")
        {
            ingest = new ClientWebSocket();
            SetToken(ingest, options.Token);
            await ingest.ConnectAsync(new Uri(wsBase, "api/v1/ingest/" + topic), ct).ConfigureAwait(false);
        }
        else
        {
            http = CreateClient(options);
        }

        var start = Stopwatch.GetTimestamp();
        warmupEnd = start + Ticks(options.Warmup);
        measureEnd = warmupEnd + Ticks(options.Duration);
        foreach (var s in subscribers)
        {
            s.Measure(warmupEnd, measureEnd);
        }

        using var stopProgress = new CancellationTokenSource();
        var progress = ProgressAsync(stopProgress.Token);
        var acks = ingest is null ? Task.CompletedTask : ReadAcksAsync(ingest);
        var publishing = PublishAsync(ct);
        await Task.Factory.StartNew(() => Schedule(start, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        await publishing.ConfigureAwait(false);

        // Every event got its answer before the drain starts counting.
        while (Volatile.Read(ref inFlight) > 0 && !ct.IsCancellationRequested)
        {
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }

        var expected = Volatile.Read(ref measuredPublished);
        var drainEnd = Stopwatch.GetTimestamp() + Ticks(options.DrainTimeout);
        while (Stopwatch.GetTimestamp() < drainEnd && subscribers.Any(s => s.Open && s.MeasuredDeliveries < expected))
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }

        await stopProgress.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);
        if (ingest is not null)
        {
            await CloseAsync(ingest).ConfigureAwait(false);
            await UntilClosedAsync(ingest, acks).ConfigureAwait(false);
        }
    }

    /// <summary>Puts each event's intended send time into the queue on schedule; a thread of its own (see <see cref="LoadRun"/>).</summary>
    private void Schedule(long start, CancellationToken ct)
    {
        var ticksPerEvent = Stopwatch.Frequency / options.Rate;
        long next = 0;
        while (!ct.IsCancellationRequested)
        {
            long at;
            while ((at = start + (long)(next * ticksPerEvent)) <= Stopwatch.GetTimestamp() && at < measureEnd)
            {
                next++;
                due.Writer.TryWrite(at);
            }

            if (at >= measureEnd)
            {
                break;
            }

            var waitMs = (int)Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), at).TotalMilliseconds;
            Thread.Sleep(Math.Clamp(waitMs, 1, 50));
        }

        due.Writer.TryComplete();
    }

    private async Task PublishAsync(CancellationToken ct)
    {
        await foreach (var at in due.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            if (Volatile.Read(ref inFlight) >= options.MaxInFlight)
            {
                if (at >= warmupEnd)
                {
                    Interlocked.Increment(ref dropped);
                }

                continue;
            }

            var (n, body) = Body(at);
            if (at >= warmupEnd)
            {
                // Sequence numbers grow with the intended send time: from here on, every event is measured.
                Interlocked.CompareExchange(ref firstMeasured, n, long.MaxValue);
            }

            Interlocked.Increment(ref inFlight);
            if (ingest is not null)
            {
                // One connection, frames in order; the answers are read by ReadAcksAsync.
                await ingest.SendAsync(body, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
            }
            else
            {
                _ = PostAsync(body, at >= warmupEnd, ct);
            }
        }
    }

    private async Task ReadAcksAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (!received.EndOfMessage)
                {
                    continue;
                }

                // Answers follow Kafka's acknowledgements, in any order across partitions: the
                // event's sequence number (the end of its id) says whether it was measured.
                var frame = buffer.AsSpan(0, received.Count);
                var ok = frame.IndexOf("\"type\":\"ack\""u8) >= 0;
                Completed(ok, ReadSequence(frame) >= Volatile.Read(ref firstMeasured));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The run is over.
        }
    }

    private async Task PostAsync(byte[] body, bool measured, CancellationToken ct)
    {
        var ok = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/" + Uri.EscapeDataString(options.Topic))
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(body),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            using var response = await http!.SendAsync(request, ct).ConfigureAwait(false);
            ok = response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // Counted as an error below.
        }

        Completed(ok, measured);
    }

    private void Completed(bool ok, bool measured)
    {
        if (ok)
        {
            Interlocked.Increment(ref published);
            if (measured)
            {
                Interlocked.Increment(ref measuredPublished);
            }
        }
        else if (measured)
        {
            Interlocked.Increment(ref publishErrors);
        }

        Interlocked.Decrement(ref inFlight);
    }

    /// <summary>The sequence number at the end of an answer's <c>event_id</c> ("evt_fan_run_123"); -1 when there is none.</summary>
    internal static long ReadSequence(ReadOnlySpan<byte> answer)
    {
        var reader = new Utf8JsonReader(answer);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("event_id"u8))
                {
                    reader.Read();
                    var id = reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
                    var underscore = id.LastIndexOf((byte)'_');
                    return underscore >= 0 && System.Buffers.Text.Utf8Parser.TryParse(id[(underscore + 1)..], out long n, out var used) && used == id.Length - underscore - 1 ? n : -1;
                }
            }
        }
        catch (JsonException)
        {
            // Not an answer of ours.
        }

        return -1;
    }

    private (long Sequence, byte[] Body) Body(long sentAt)
    {
        var n = Interlocked.Increment(ref sequence);
        return (n, Encoding.UTF8.GetBytes(Invariant(
            $$$"""{"event_id":"evt_fan_{{{runId}}}_{{{n}}}","timestamp":"{{{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ}}}","event_type":"{{{eventType}}}","user_id":"user_{{{n % 1000}}}","device_id":"device_{{{n % 1000}}}","payload":{"sent_at_ticks":{{{sentAt}}},"seq":{{{n}}},"temperature":21.5,"amount":1.0}}""")));
    }

    private async Task ProgressAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = (At: Stopwatch.GetTimestamp(), Published: 0L, Delivered: 0L);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var delivered = subscribers.Sum(s => s.AllDeliveries);
                var sent = Volatile.Read(ref published);
                var seconds = Stopwatch.GetElapsedTime(last.At, now).TotalSeconds;
                var phase = now < warmupEnd ? "warmup" : now < measureEnd ? "run" : "drain";
                output.WriteLine(Invariant($"{phase,-6} {(sent - last.Published) / seconds,8:F0} published/s {(delivered - last.Delivered) / seconds,10:F0} delivered/s  open {subscribers.Count(s => s.Open)}  in-flight {Volatile.Read(ref inFlight)}"));
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                last = (now, sent, delivered);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>Which subscribers the server closed during the run; called before this run closes the rest.</summary>
    public void RecordSubscriberStates()
    {
        stillOpen = subscribers.Count(s => s.Open);
        closedEarly = subscribers.Where(s => !s.Open).GroupBy(s => s.CloseDescription).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    public WsFanoutReport BuildReport(TimeSpan cpu, TimeSpan wall, bool cancelled)
    {
        var latency = new LongHistogram(Tally.HighestMicros, 3);
        foreach (var s in subscribers)
        {
            latency.Add(s.Latency);
        }

        var seconds = options.Duration.TotalSeconds;
        var delivered = subscribers.Sum(s => s.MeasuredDeliveries);
        double Ms(double p) => latency.TotalCount > 0 ? latency.GetValueAtPercentile(p) / 1000.0 : 0;
        return new WsFanoutReport(
            options.Url,
            options.Topic,
            options.Subscribers,
            options.Rate,
            options.Publish,
            seconds,
            Volatile.Read(ref measuredPublished),
            Volatile.Read(ref publishErrors),
            Volatile.Read(ref dropped),
            delivered,
            Volatile.Read(ref measuredPublished) * stillOpen,
            delivered / seconds,
            Volatile.Read(ref measuredPublished) / seconds,
            new LatencySummary(latency.TotalCount, Ms(50), Ms(95), Ms(99), Ms(99.9), latency.TotalCount > 0 ? latency.GetMaxValue() / 1000.0 : 0, latency.TotalCount > 0 ? latency.GetMean() / 1000.0 : 0),
            closedEarly,
            cpu.TotalSeconds,
            wall.TotalSeconds > 0 ? cpu.TotalSeconds / wall.TotalSeconds : 0,
            Environment.ProcessorCount,
            cancelled);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(subscribers.Select(s => s.CloseAsync())).ConfigureAwait(false);
        ingest?.Dispose();
        http?.Dispose();
    }

    // The reader ends when the server answers our close. A server that never does (seen once in CI: a
    // test run held for 20 minutes) must not hold the run: after 10 s the socket is aborted, which ends
    // the pending receive; what was not delivered by then counts as missing.
    private static async Task UntilClosedAsync(ClientWebSocket socket, Task reader)
    {
        try
        {
            await reader.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            socket.Abort();
            await reader.ConfigureAwait(false);
        }
    }

    private static async Task CloseAsync(ClientWebSocket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Already gone.
        }
    }

    internal static void SetToken(ClientWebSocket socket, string? token)
    {
        if (!string.IsNullOrEmpty(token))
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }
    }

    private static HttpClient CreateClient(WsFanoutOptions options)
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
        var client = new HttpClient(handler, disposeHandler: true) { BaseAddress = new Uri(options.Url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(options.Token))
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + options.Token);
        }

        return client;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One subscriber: its socket, its receive loop, and its own histogram (no sharing between subscribers).</summary>
    private sealed class Subscriber(byte[] eventIdPrefix)
    {
        private readonly ClientWebSocket socket = new();
        private Task receiving = Task.CompletedTask;
        private long from = long.MaxValue;
        private long to = long.MaxValue;
        private long all;
        private long measured;

        public LongHistogram Latency { get; } = new(Tally.HighestMicros, 3);

        public long AllDeliveries => Volatile.Read(ref all);

        public long MeasuredDeliveries => Volatile.Read(ref measured);

        public bool Open => socket.State == WebSocketState.Open;

        public string CloseDescription => socket.CloseStatus is { } status
            ? Invariant($"{(int)status} {socket.CloseStatusDescription}")
            : socket.State.ToString();

        public async Task ConnectAsync(Uri uri, string? token, CancellationToken ct)
        {
            SetToken(socket, token);
            await socket.ConnectAsync(uri, ct).ConfigureAwait(false);
            receiving = ReceiveAsync();
        }

        public void Measure(long measureFrom, long measureTo)
        {
            Volatile.Write(ref to, measureTo);
            Volatile.Write(ref from, measureFrom);
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult received;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            Array.Resize(ref buffer, buffer.Length * 2);
                        }

                        received = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
                        if (received.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        length += received.Count;
                    }
                    while (!received.EndOfMessage);

                    var now = Stopwatch.GetTimestamp();
                    if (!WsFanout.TryReadSentAt(buffer.AsSpan(0, length), eventIdPrefix, out var sentAt))
                    {
                        continue;
                    }

                    Interlocked.Increment(ref all);
                    if (sentAt >= Volatile.Read(ref from) && sentAt < Volatile.Read(ref to))
                    {
                        // Written by this loop only; read once the run is over.
                        Latency.RecordValue(Math.Clamp(Stopwatch.GetElapsedTime(sentAt, now).Ticks / (TimeSpan.TicksPerMillisecond / 1000), 1, Tally.HighestMicros));
                        Interlocked.Increment(ref measured);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Closed by the server (slow consumer) or by the end of the run.
            }
        }

        public async Task CloseAsync()
        {
            if (socket.State == WebSocketState.Open)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                    // Already gone.
                }
            }

            await UntilClosedAsync(socket, receiving).ConfigureAwait(false);
            socket.Dispose();
        }
    }
}
