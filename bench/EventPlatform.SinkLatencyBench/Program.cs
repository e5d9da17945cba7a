using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

// Publish → queryable: events POSTed to the gateway's batch endpoint at a steady rate (open loop: a
// batch leaves on its schedule whether or not the previous one was answered), the first event of
// every batch a sample; the sink's POST /query is polled for the samples not yet seen. A sample's
// delay is from its batch's acknowledgement to the first poll that finds its row (an upper bound by
// one poll). Then the sink's own histogram, eventplatform_end_to_end_latency_seconds, from /metrics.
// A warm-up at the same rate runs first (its events are not sampled, and the histogram is taken as
// the difference across the measured run), so a just-started platform's JIT is not what is measured.
//   EventPlatform.SinkLatencyBench GATEWAY_URL SINK_URL TOKEN [rate=10000] [seconds=30] [batch=200] [warmup-seconds=10]
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: GATEWAY_URL SINK_URL TOKEN [rate=10000] [seconds=30] [batch=200] [warmup-seconds=10]");
    return 2;
}

var gateway = new Uri(args[0].TrimEnd('/') + "/");
var sink = new Uri(args[1].TrimEnd('/') + "/");
var token = args[2];
var rate = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 10_000;
var seconds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 30;
var batchSize = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 200;
var warmupSeconds = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 10;
var batches = rate * seconds / batchSize;
var interval = TimeSpan.FromSeconds((double)batchSize / rate);
var run = Guid.NewGuid().ToString("N")[..8];

using var publisher = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
publisher.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
using var reader = new HttpClient { BaseAddress = sink, Timeout = TimeSpan.FromSeconds(30) };
reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

using var metrics = new HttpClient { BaseAddress = sink, Timeout = TimeSpan.FromSeconds(10) };
if (warmupSeconds > 0)
{
    var warmBatches = rate * warmupSeconds / batchSize;
    await OnScheduleAsync(warmBatches, Stopwatch.StartNew(), WarmAsync);
    await Task.Delay(TimeSpan.FromSeconds(3)); // the sink drains the warm-up's last buffers
    Console.WriteLine($"warm-up: {warmBatches:N0} batches of {batchSize} over {warmupSeconds} s, not measured");
}

// Open loop: batch k leaves at k intervals from the start whether or not earlier ones were answered;
// returns how many left more than an interval late.
async Task<long> OnScheduleAsync(int count, Stopwatch started, Func<int, Task> send)
{
    var sends = new List<Task>(count);
    long late = 0;
    for (var k = 0; k < count; k++)
    {
        var wait = interval * k - started.Elapsed;
        if (wait > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(wait);
        }
        else if (wait < -interval)
        {
            late++;
        }

        sends.Add(send(k));
    }

    await Task.WhenAll(sends);
    return late;
}

async Task WarmAsync(int k)
{
    try
    {
        using var response = await publisher.PostAsync("api/v1/events/iot.sensors/batch", new StringContent(Body($"warm_{k}"), Encoding.UTF8, "application/json"));
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
    }
}

var before = await metrics.GetStringAsync("metrics");
var clock = Stopwatch.StartNew();
var acked = new ConcurrentDictionary<string, TimeSpan>();
var ackDelays = new ConcurrentBag<double>();
var seen = new Dictionary<string, TimeSpan>();
long accepted = 0, refused = 0;
var publishing = Task.Run(() => OnScheduleAsync(batches, clock, SendAsync));

string Body(string batchId)
{
    var body = new StringBuilder("[");
    for (var j = 0; j < batchSize; j++)
    {
        body.Append(CultureInfo.InvariantCulture, $$"""{"event_id":"evt_lat_{{run}}_{{batchId}}_{{j}}","timestamp":"{{DateTime.UtcNow:O}}","event_type":"iot.sensor",""")
            .Append(CultureInfo.InvariantCulture, $$"""
                "device_id":"device_{{j % 97}}","payload":{"temperature":{{20 + (j % 150) / 10.0}},"humidity":{{40 + (j % 37)}}
                """).Append("}}");
        body.Append(j + 1 < batchSize ? ',' : ']');
    }

    return body.ToString();
}

async Task SendAsync(int k)
{
    var body = Body(k.ToString(CultureInfo.InvariantCulture));
    var sent = clock.Elapsed;
    try
    {
        using var response = await publisher.PostAsync("api/v1/events/iot.sensors/batch", new StringContent(body, Encoding.UTF8, "application/json"));
        var answered = clock.Elapsed;
        var results = JsonNode.Parse(await response.Content.ReadAsStringAsync())?["results"] as JsonArray;
        var ok = results?.Count(r => (string?)r?["status"] == "accepted") ?? 0;
        Interlocked.Add(ref accepted, ok);
        Interlocked.Add(ref refused, batchSize - ok);
        ackDelays.Add((answered - sent).TotalMilliseconds);
        if ((string?)results?[0]?["status"] == "accepted")
        {
            acked[$"evt_lat_{run}_{k}_0"] = answered;
        }
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        Interlocked.Add(ref refused, batchSize);
    }
}

// Polls until every acknowledged sample is seen, or 60 s after the last batch was answered.
var polls = new List<double>();
var giveUp = TimeSpan.MaxValue;
while (true)
{
    if (publishing.IsCompleted && giveUp == TimeSpan.MaxValue)
    {
        giveUp = clock.Elapsed + TimeSpan.FromSeconds(60);
    }

    var waiting = acked.Keys.Where(id => !seen.ContainsKey(id)).Take(1000).ToList();
    if (waiting.Count == 0 && publishing.IsCompleted)
    {
        break;
    }

    if (clock.Elapsed > giveUp)
    {
        Console.WriteLine($"gave up: {waiting.Count} acknowledged samples never became queryable");
        break;
    }

    if (waiting.Count > 0)
    {
        var started = clock.Elapsed;
        var sql = "SELECT event_id FROM events WHERE event_id IN (" + string.Join(',', waiting.Select(id => $"'{id}'")) + ")";
        using var response = await reader.PostAsync("query", new StringContent(new JsonObject { ["sql"] = sql, ["max_rows"] = 10_000 }.ToJsonString(), Encoding.UTF8, "application/json"));
        var now = clock.Elapsed;
        polls.Add((now - started).TotalMilliseconds);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"POST /query answered {(int)response.StatusCode}: {text}");
            return 1;
        }

        foreach (var row in JsonNode.Parse(text)!["rows"]!.AsArray())
        {
            seen[(string)row![0]!] = now;
        }
    }

    await Task.Delay(50);
}

var lateStarts = await publishing;
var delays = seen.Select(s => (s.Value - acked[s.Key]).TotalMilliseconds).ToList();
Console.WriteLine($"published {accepted:N0} events accepted, {refused:N0} refused, in {batches:N0} batches of {batchSize} at {rate:N0}/s target over {seconds} s ({lateStarts} batches left late)");
Console.WriteLine($"gateway batch answer ms: {Percentiles([.. ackDelays])}");
Console.WriteLine($"acknowledged → queryable ms ({delays.Count} of {acked.Count} samples seen): {Percentiles(delays)}");
Console.WriteLine($"poll round trip ms: {Percentiles(polls)}");

var after = await metrics.GetStringAsync("metrics");
Console.WriteLine("sink's eventplatform_end_to_end_latency_seconds (the measured run's rows, bucket-interpolated): " + HistogramPercentiles(before, after, "eventplatform_end_to_end_latency_seconds"));
return 0;

static string Percentiles(List<double> values)
{
    if (values.Count == 0)
    {
        return "no samples";
    }

    values.Sort();
    double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
    return $"p50 {At(0.50):F0}, p95 {At(0.95):F0}, p99 {At(0.99):F0}, max {values[^1]:F0}";
}

static string HistogramPercentiles(string before, string after, string name)
{
    var buckets = new SortedDictionary<double, double>();
    void Add(string text, int sign)
    {
        foreach (var line in text.Split('\n').Where(l => l.StartsWith(name + "_bucket{", StringComparison.Ordinal)))
        {
            var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
            le = le[..le.IndexOf('"', StringComparison.Ordinal)];
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            buckets[bound] = buckets.GetValueOrDefault(bound) + (sign * double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
    }

    Add(after, 1);
    Add(before, -1);

    if (buckets.Count == 0 || buckets.Last().Value == 0)
    {
        return "not exported";
    }

    var total = buckets.Last().Value;
    string At(double q)
    {
        var target = q * total;
        double lower = 0, below = 0;
        foreach (var (bound, count) in buckets)
        {
            if (count >= target)
            {
                return double.IsPositiveInfinity(bound) ? $">{lower}" : (lower + ((bound - lower) * (target - below) / Math.Max(1, count - below))).ToString("F3", CultureInfo.InvariantCulture);
            }

            lower = bound;
            below = count;
        }

        return "?";
    }

    return $"{total:N0} rows, p50 {At(0.5)} s, p95 {At(0.95)} s, p99 {At(0.99)} s";
}
