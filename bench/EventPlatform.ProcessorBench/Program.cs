using System.Diagnostics;
using System.Globalization;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Core.Topics;
using EventPlatform.Schemas.Avro;
using EventPlatform.Testing;

// The processor's benchmark (issue 10, item 8): on the embedded broker of the `broker` command, N
// events are preloaded; each run measures a raw Confluent.Kafka consume-and-produce pipe over them,
// then the `processor` default job with its defaults; last, live events stamped with the clock give
// the delay from a window's close to its result in events.aggregated.
var events = Argument("--events", 1_000_000);
var runs = Argument("--runs", 3);
var liveSeconds = Argument("--live-seconds", 130);
var liveRate = Argument("--live-rate", 2_000);
// Processes of the job (one group) per run: scale-out across processes, as Flink's parallelism.
var instances = Argument("--instances", 1);
// Everything after "--" goes to the processor (e.g. -- --Processor:ScaleOut=false).
var processorArguments = Array.IndexOf(args, "--") is var dashes and >= 0 ? args[(dashes + 1)..] : [];

var topics = new[] { "events.iot.sensors", "events.clickstream", "events.transactions" };
var types = new[] { "iot.sensor", "clickstream", "transaction" };
var partitions = topics.Select(t => TopicPlan.Seed.Find(t)!.Partitions).ToArray();
var maxOutOfOrderness = TimeSpan.FromSeconds(10);

var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
await using var brokerProcess = broker;
var (registryProcess, registryUri) = await PlatformProcesses.StartRegistryAsync("registry", bootstrap);
await using var registryLifetime = registryProcess;
var registryUrl = registryUri.ToString().TrimEnd('/');
using var registry = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(registryUrl));
var schema = (RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
var serializer = new AvroSerializer<GenericRecord>(registry, new AvroSerializerConfig { AutoRegisterSchemas = true });
var random = new Random(8);

using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
{
    BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 10, CompressionType = CompressionType.Snappy, BatchSize = 1_000_000,
}).Build();

// 1. The preload: events 5 ms of event time apart (1 M events span about 83 minutes), ascending in every
//    partition, then one marker per partition a minute ago, so every window of the preload closes.
var clock = Stopwatch.StartNew();
var firstTime = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds();
for (var i = 0; i < events; i++)
{
    await ProduceEventAsync(i, firstTime + i * 5L, null);
}

for (var kind = 0; kind < 3; kind++)
{
    for (var partition = 0; partition < partitions[kind]; partition++)
    {
        await ProduceEventAsync(kind, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), partition);
    }
}

producer.Flush();
var input = events + partitions.Sum();
Console.WriteLine($"preloaded {input:N0} records ({events:N0} events and {partitions.Sum()} markers) in {clock.Elapsed.TotalSeconds:F1} s");

// 2. The runs, side by side: the raw pipe, then the processor, over the same input.
var dataDirectory = Directory.CreateTempSubdirectory("processor-bench-").FullName;
var rows = new List<(double Raw, double Consumed, double Results, double RawWarm, double ConsumedWarm, double RawCpu, double Cpu, double Tuned, double TunedWarm, double TunedCpu)>();
// Two raw pipes per run: with the client's defaults, and with the platform's consumer fetch settings (its
// fetch.queue.backoff.ms instead of librdkafka's 1000 ms), so that the processor is also compared with a
// raw pipe reading the way it reads.
var platformFetchQueueBackoffMs = new EventPlatform.Kafka.Configuration.ConsumerSettings().FetchQueueBackoffMs;
List<(CliProcess Process, Uri Metrics)> lastProcessors = [];
for (var run = 1; run <= runs; run++)
{
    var (raw, rawWarm, rawCpu, rawBrokerCpu) = RawPipe($"raw-pipe-{run}", null);
    var (tuned, tunedWarm, tunedCpu, _) = RawPipe($"raw-pipe-tuned-{run}", platformFetchQueueBackoffMs);
    foreach (var (process, _) in lastProcessors)
    {
        await process.DisposeAsync();
    }

    lastProcessors = [];
    for (var instance = 0; instance < instances; instance++)
    {
        lastProcessors.Add(await StartProcessorAsync($"bench-{run}", instance));
    }

    var (consumedRate, resultsRate, consumedSeconds, resultsSeconds, consumedWarm, cpu, brokerCpu, cpuWarm) =
        await MeasureProcessorAsync([.. lastProcessors.Select(p => p.Metrics)], [.. lastProcessors.Select(p => p.Process.Id)]);
    rows.Add((raw, consumedRate, resultsRate, rawWarm, consumedWarm, rawCpu, cpu, tuned, tunedWarm, tunedCpu));
    // The embedded broker keeps ~5 MB per partition: a consumer further behind than that is reset past
    // records it never read (librdkafka logs "Offset out of range" as a warning, event 4018).
    var resets = lastProcessors.Sum(p => p.Process.Output.Split('\n').Count(l => l.Contains("Offset out of range", StringComparison.Ordinal)));
    if (resets > 0)
    {
        Console.WriteLine($"  WARNING: {resets} offset resets: records were dropped by the broker before the processor read them, so this run's results are incomplete");
    }
    // Event 4019, logged at Information (the bench runs the processor at Warning unless told otherwise).
    var local = lastProcessors.Sum(p => p.Process.Output.Split('\n').Count(l => l.Contains("go to the window tasks in memory", StringComparison.Ordinal)));
    if (local > 0)
    {
        Console.WriteLine($"  {local} instance(s) skipped the repartition hop once they owned every partition");
    }
    Console.WriteLine($"run {run}: raw pipe {raw:N0} events/s; processor {consumedRate:N0} events/s read ({consumedSeconds:F1} s), " +
        $"{resultsRate:N0} events/s to its last result ({resultsSeconds:F1} s); {consumedRate / raw:P0} of the raw pipe; " +
        $"raw pipe with the platform's fetch settings {tuned:N0} events/s ({consumedRate / tuned:P0})");
    // CPU per event, from /proc: the raw pipe's is this process's while it runs (nothing else runs in it then).
    Console.WriteLine($"  CPU per event: raw pipe {rawCpu:F1} µs (broker {rawBrokerCpu:F1} µs), with the platform's fetch settings {tunedCpu:F1} µs; processor {cpu:F1} µs (broker {brokerCpu:F1} µs), over its second half {cpuWarm:F1} µs");
}

Console.WriteLine();
Console.WriteLine($"raw pipe:              {Spread(rows.Select(r => r.Raw))} events/s");
Console.WriteLine($"raw pipe, fetch settings as the platform's: {Spread(rows.Select(r => r.Tuned))} events/s");
Console.WriteLine($"processor, input read: {Spread(rows.Select(r => r.Consumed))} events/s");
Console.WriteLine($"processor, to results: {Spread(rows.Select(r => r.Results))} events/s");
Console.WriteLine($"ratio (input read / raw): {Spread(rows.Select(r => r.Consumed / r.Raw * 100))} %");
Console.WriteLine($"ratio (input read / raw with the platform's fetch settings): {Spread(rows.Select(r => r.Consumed / r.Tuned * 100))} %");
// The second half of the input alone: both sides warmed up (the JIT's tiers done, caches and state sized).
Console.WriteLine($"second half, raw pipe:  {Spread(rows.Select(r => r.RawWarm))} events/s");
Console.WriteLine($"second half, processor: {Spread(rows.Select(r => r.ConsumedWarm))} events/s");
Console.WriteLine($"second half, ratio:     {Spread(rows.Select(r => r.ConsumedWarm / r.RawWarm * 100))} %");
Console.WriteLine($"second half, raw pipe with the platform's fetch settings: {Spread(rows.Select(r => r.TunedWarm))} events/s, ratio {Spread(rows.Select(r => r.ConsumedWarm / r.TunedWarm * 100))} %");
Console.WriteLine($"CPU per event, raw pipe:  {Spread(rows.Select(r => r.RawCpu), "F1")} µs (with the platform's fetch settings {Spread(rows.Select(r => r.TunedCpu), "F1")} µs)");
Console.WriteLine($"CPU per event, processor: {Spread(rows.Select(r => r.Cpu), "F1")} µs");

// 3. The window-close delay: the last run's processor stays, live events stamped with the clock arrive at
//    a steady rate, and each window's first result is timed from the moment its close became possible:
//    the first event time at least MaxOutOfOrderness past the window's end (the watermark then passes it).
var delays = await MeasureCloseDelayAsync();
Console.WriteLine(delays.Count == 0
    ? "window-close delay: no window closed during the live phase"
    : $"window-close delay over {delays.Count} results: p50 {Percentile(delays, 0.5):F0} ms, p95 {Percentile(delays, 0.95):F0} ms, max {delays.Max():F0} ms");
foreach (var (process, _) in lastProcessors)
{
    await process.DisposeAsync();
}

Directory.Delete(dataDirectory, recursive: true);
return 0;

async Task ProduceEventAsync(int i, long time, int? markerPartition)
{
    var kind = i % 3;
    var user = markerPartition is null ? $"user-{random.Next(5_000)}" : "marker";
    var device = markerPartition is null ? $"device-{random.Next(500)}" : "marker";
    var record = new GenericRecord(schema);
    record.Add("event_id", markerPartition is null ? $"evt-{i}-{time}" : $"marker-{kind}-{markerPartition}");
    record.Add("timestamp", time);
    record.Add("event_type", types[kind]);
    record.Add("user_id", kind == 0 ? null : user);
    record.Add("device_id", kind == 0 ? device : null);
    var value = Math.Round(random.NextDouble() * 1000, 2).ToString(CultureInfo.InvariantCulture);
    record.Add("payload", kind switch
    {
        0 => $"{{\"temperature\":{value},\"humidity\":55.5}}",
        2 => $"{{\"amount\":{value},\"currency\":\"EUR\"}}",
        _ => "{\"page\":\"/products/42\",\"action\":\"click\"}",
    });
    var partition = markerPartition ?? i / 3 % partitions[kind];
    var message = new Message<byte[]?, byte[]>
    {
        Key = System.Text.Encoding.UTF8.GetBytes(kind == 0 ? device : user),
        Value = await serializer.SerializeAsync(record, new SerializationContext(MessageComponentType.Value, topics[kind])),
        Timestamp = new Timestamp(time, TimestampType.CreateTime),
    };
    while (true)
    {
        try
        {
            producer.Produce(new TopicPartition(topics[kind], partition), message);
            return;
        }
        catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
        {
            producer.Poll(TimeSpan.FromMilliseconds(50));
        }
    }
}

// Consume every input record and produce one record per input (same key and value), then flush: events/s
// from the first record read to the last one acknowledged.
(double Whole, double SecondHalf, double CpuPerEvent, double BrokerCpuPerEvent) RawPipe(string group, int? fetchQueueBackoffMs)
{
    using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        FetchQueueBackoffMs = fetchQueueBackoffMs,
    }).Build();
    using var output = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
    {
        BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 10, CompressionType = CompressionType.Snappy,
    }).Build();
    consumer.Subscribe(topics);
    var read = 0;
    var halfway = 0.0;
    Stopwatch? elapsed = null;
    (double Own, double Broker) cpuStart = default;
    while (read < input)
    {
        var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"the raw pipe read {read} of {input} records");
        if (elapsed is null)
        {
            elapsed = Stopwatch.StartNew();
            cpuStart = (CpuSeconds(Environment.ProcessId), CpuSeconds(broker.Id));
        }
        read++;
        if (read == input / 2)
        {
            halfway = elapsed.Elapsed.TotalSeconds;
        }
        while (true)
        {
            try
            {
                output.Produce("bench.raw-out", new Message<byte[]?, byte[]> { Key = result.Message.Key, Value = result.Message.Value, Timestamp = result.Message.Timestamp });
                break;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                output.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }

    output.Flush();
    var total = elapsed!.Elapsed.TotalSeconds;
    var (ownCpu, brokerCpu) = (CpuSeconds(Environment.ProcessId) - cpuStart.Own, CpuSeconds(broker.Id) - cpuStart.Broker);
    consumer.Close();
    return (input / total, (input - input / 2) / (total - halfway), ownCpu * 1e6 / input, brokerCpu * 1e6 / input);
}

async Task<(CliProcess, Uri)> StartProcessorAsync(string job, int instance)
{
    var url = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
    var process = CliProcess.Start($"processor-{job}-{instance}",
    [
        "processor", $"--Processor:Urls={url.ToString().TrimEnd('/')}", $"--Processor:JobName={job}",
        $"--Processor:DataDirectory={Path.Combine(dataDirectory, job, instance.ToString(CultureInfo.InvariantCulture))}", "--Logging:LogLevel:Default=Warning", .. processorArguments,
    ], ProcessorEnvironment());
    await process.WaitForHealthyAsync(new Uri(url, "health/ready"), PlatformProcesses.StartTimeout);
    return (process, new Uri(url, "metrics"));
}

// Polls the processor's counters: events/s from its first record read to the whole input read, and to its
// last result (events.aggregated quiet for 3 s after the input is read). Until the first record it polls
// every 50 ms (nothing to disturb yet); then every 200 ms, because a scrape costs the processor CPU (the
// .NET process collector lists /proc/self/fd each time): at 20 scrapes a second it took ~8 % of a core,
// where Prometheus scrapes every 15 s. The halfway and end crossings are placed between two polls at the
// rate of the interval before the crossing (the counter stops at the input, so the last interval's own
// rate is unknown).
async Task<(double Consumed, double Results, double ConsumedSeconds, double ResultsSeconds, double SecondHalf, double CpuPerEvent, double BrokerCpuPerEvent, double SecondHalfCpuPerEvent)> MeasureProcessorAsync(Uri[] metrics, int[] pids)
{
    (double Own, double Broker) cpuStart = default;
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    Stopwatch? elapsed = null;
    double consumedAt = 0;
    double? halfwayAt = null;
    (double Own, double Broker) cpu = default;
    var cpuAtHalf = 0.0;
    var cpuSecondHalf = 0.0;
    var previous = (At: 0.0, Consumed: 0.0);
    var rate = 0.0;
    long lastReport = -1;
    var lastConsumed = -1.0;
    var stalledReports = 0;
    while (true)
    {
        var consumed = await SumAsync(http, metrics, "processor_records_consumed_total");
        if (consumed > 0 && elapsed is null)
        {
            elapsed = Stopwatch.StartNew();
            previous = (0, consumed);
            cpuStart = (pids.Sum(CpuSeconds), CpuSeconds(broker.Id));
        }

        var at = elapsed?.Elapsed.TotalSeconds ?? 0;
        if (elapsed is not null && at > previous.At && consumed < input)
        {
            rate = (consumed - previous.Consumed) / (at - previous.At);
        }

        if (halfwayAt is null && consumed >= input / 2)
        {
            halfwayAt = Crossing(input / 2);
            cpuAtHalf = pids.Sum(CpuSeconds);
        }

        if (consumed >= input)
        {
            consumedAt = Crossing(input);
            var cpuAtEnd = pids.Sum(CpuSeconds);
            cpu = (cpuAtEnd - cpuStart.Own, CpuSeconds(broker.Id) - cpuStart.Broker);
            cpuSecondHalf = cpuAtEnd - cpuAtHalf;
            break;
        }

        if (elapsed is not null)
        {
            previous = (at, consumed);
        }

        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") is not null && elapsed is not null && elapsed.ElapsedMilliseconds / 2000 != lastReport)
        {
            lastReport = elapsed.ElapsedMilliseconds / 2000;
            var each = new List<double>();
            foreach (var endpoint in metrics)
            {
                each.Add(Counter(await http.GetStringAsync(endpoint), "processor_records_consumed_total"));
            }

            Console.WriteLine($"  {elapsed.Elapsed.TotalSeconds:F0} s: consumed {string.Join(" + ", each)}");
            if (each.Sum() == lastConsumed && ++stalledReports == 3)
            {
                // Nothing read for 6 s: show what the processors said (run with -- --Logging:LogLevel:Default=Information for more).
                foreach (var (process, _) in lastProcessors)
                {
                    Console.WriteLine($"  stalled; {process.Name} said:\n{string.Join('\n', process.Output.Split('\n').Where(l => !l.Contains("[4111]", StringComparison.Ordinal)).TakeLast(40))}");
                }
            }
            lastConsumed = each.Sum();
        }

        await Task.Delay(elapsed is null ? 50 : 200);

        // Where the counter passed `target` since the last poll, at the rate measured before it.
        double Crossing(double target) =>
            elapsed is null ? 0 : rate > 0 ? Math.Min(elapsed.Elapsed.TotalSeconds, previous.At + (target - previous.Consumed) / rate) : elapsed.Elapsed.TotalSeconds;
    }

    var lastGrowth = elapsed!.Elapsed.TotalSeconds;
    var emitted = -1.0;
    while (elapsed.Elapsed.TotalSeconds - lastGrowth < 3)
    {
        var now = await SumAsync(http, metrics, "processor_records_emitted_total");
        if (now != emitted)
        {
            emitted = now;
            lastGrowth = elapsed.Elapsed.TotalSeconds;
        }

        await Task.Delay(100);
    }

    var halfAt = halfwayAt ?? 0;
    return (input / consumedAt, input / lastGrowth, consumedAt, lastGrowth, (input - input / 2) / (consumedAt - halfAt), cpu.Own * 1e6 / input, cpu.Broker * 1e6 / input, cpuSecondHalf * 1e6 / (input - input / 2));
}

async Task<List<double>> MeasureCloseDelayAsync()
{
    var deserializer = new AvroDeserializer<GenericRecord>(registry);
    using var results = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = "close-delay-" + Guid.NewGuid(), AutoOffsetReset = AutoOffsetReset.Latest, EnableAutoCommit = false,
    }).Build();
    results.Subscribe(TopicPlan.Aggregated);
    var liveStart = DateTimeOffset.UtcNow;
    while (results.Assignment.Count == 0 && DateTimeOffset.UtcNow - liveStart < TimeSpan.FromSeconds(30))
    {
        results.Consume(TimeSpan.FromMilliseconds(100));
    }

    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(liveSeconds));
    var live = Task.Run(async () =>
    {
        var sent = 0;
        var started = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            while (sent < started.Elapsed.TotalSeconds * liveRate)
            {
                await ProduceEventAsync(sent++, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null);
            }

            await Task.Delay(5);
        }
    });
    var delays = new List<double>();
    var liveFrom = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    while (!live.IsCompleted)
    {
        var result = results.Consume(TimeSpan.FromMilliseconds(100));
        if (result is null)
        {
            continue;
        }

        var received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var value = await deserializer.DeserializeAsync(result.Message.Value, false, new SerializationContext(MessageComponentType.Value, TopicPlan.Aggregated));
        var end = new DateTimeOffset(((DateTime)value["window_end"]).ToUniversalTime()).ToUnixTimeMilliseconds();
        var closable = end + (long)maxOutOfOrderness.TotalMilliseconds;
        // Only windows that closed on live events (not the preload's) and only first results.
        if ((bool)value["is_update"] || end <= liveFrom || (string)value["window_kind"] == "session")
        {
            continue;
        }

        delays.Add(received - closable);
    }

    await live;
    producer.Flush();
    results.Close();
    return delays;
}

static async Task<double> SumAsync(HttpClient http, Uri[] endpoints, string name)
{
    var sum = 0.0;
    foreach (var endpoint in endpoints)
    {
        sum += Counter(await http.GetStringAsync(endpoint), name);
    }

    return sum;
}

static double Counter(string metrics, string name) => metrics.Split('\n')
    .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
    .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

// utime + stime of a process from /proc (clock ticks of 1/100 s), after the name's closing parenthesis.
static double CpuSeconds(int pid)
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
}

static string Spread(IEnumerable<double> values, string format = "N0")
{
    var list = values.ToList();
    return $"median {Percentile(list, 0.5).ToString(format, CultureInfo.InvariantCulture)} (min {list.Min().ToString(format, CultureInfo.InvariantCulture)}, " +
        $"max {list.Max().ToString(format, CultureInfo.InvariantCulture)}, {list.Count} runs)";
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
}

int Argument(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    if (Array.IndexOf(args, "--") is var dashes and >= 0 && index > dashes)
    {
        index = -1;
    }

    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

// The processor runs with the runtime settings a user gets: the CLI's own (server GC; the test helper's
// workstation-GC override is removed). BENCH_PROCESSOR_ENV="DOTNET_TieredPGO=0 ..." sets more for the
// processor alone, not for the raw pipe in this process.
Dictionary<string, string?> ProcessorEnvironment()
{
    var environment = PlatformProcesses.GatewayEnvironment(bootstrap, registryUrl);
    environment["DOTNET_gcServer"] = null;
    foreach (var setting in (Environment.GetEnvironmentVariable("BENCH_PROCESSOR_ENV") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
    {
        var equals = setting.IndexOf('=', StringComparison.Ordinal);
        environment[setting[..equals]] = setting[(equals + 1)..];
    }
    return environment;
}
