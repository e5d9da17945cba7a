using System.Globalization;
using System.Runtime.InteropServices;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Core;
using EventPlatform.Core.Topics;
using EventPlatform.Schemas.Avro;
using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>One event of the generated input, as the reference sees it.</summary>
internal sealed record PublishedEvent(string Type, long Time, double? Value, string? User, string Actor);

/// <summary>The last result written under one window key: its figures as text (for messages and the reference) and its value's bytes.</summary>
internal sealed record WindowResultCopy(string Figures, byte[] Value);

/// <summary>
/// What the processor's process tests share: a <c>broker</c> and a <c>registry</c> in their own
/// processes, a deterministic input of the three event types (ascending in time in every partition,
/// invalid records between them, then markers that close every window), a brute-force reference of
/// its windows, <c>processor</c> children, and the results read back with Confluent's AvroDeserializer.
/// </summary>
internal sealed class ProcessorTestBed : IAsyncDisposable
{
    public static readonly string[] Topics = ["events.iot.sensors", "events.clickstream", "events.transactions"];
    private static readonly string[] EventTypeOf = ["iot.sensor", "clickstream", "transaction"];

    private readonly Dictionary<CliProcess, Uri> _metrics = [];
    private readonly DateTimeOffset _start;
    private CliProcess _broker = null!;
    private CliProcess _registryProcess = null!;
    private AvroSerializer<GenericRecord> _serializer = null!;
    private IProducer<byte[]?, byte[]> _producer = null!;
    private readonly Random _random = new(10);
    private int _published;

    private ProcessorTestBed()
    {
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        _start = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
    }

    public string Bootstrap { get; private set; } = null!;

    public string RegistryUrl { get; private set; } = null!;

    public CachedSchemaRegistryClient Registry { get; private set; } = null!;

    /// <summary>Every valid event published so far.</summary>
    public List<PublishedEvent> Events { get; } = [];

    /// <summary>The coordinates of every invalid record published so far.</summary>
    public List<(string Topic, int Partition, long Offset)> Invalid { get; } = [];

    public static async Task<ProcessorTestBed> StartAsync()
    {
        var bed = new ProcessorTestBed();
        (bed._broker, bed.Bootstrap) = await PlatformProcesses.StartBrokerAsync();
        var (registry, url) = await PlatformProcesses.StartRegistryAsync("registry", bed.Bootstrap);
        bed._registryProcess = registry;
        bed.RegistryUrl = url.ToString().TrimEnd('/');
        bed.Registry = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(bed.RegistryUrl));
        // Values are serialized one after the other and produced by an idempotent producer, so every
        // partition holds its events in the order written (an async serializer's continuations, or a
        // retry, could otherwise reorder them and make records late).
        bed._serializer = new AvroSerializer<GenericRecord>(bed.Registry, new AvroSerializerConfig { AutoRegisterSchemas = true });
        bed._producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bed.Bootstrap, EnableIdempotence = true, LingerMs = 5 }).Build();
        return bed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _metrics.Keys)
        {
            await process.DisposeAsync();
        }

        _producer?.Dispose();
        Registry?.Dispose();
        if (_registryProcess is not null)
        {
            await _registryProcess.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }

    /// <summary>Publishes the next <paramref name="count"/> events (120 ms of event time apart), with an invalid record every 2,000.</summary>
    public async Task PublishAsync(int count)
    {
        var schema = (RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
        var partitions = Topics.Select(t => TopicPlan.Seed.Find(t)!.Partitions).ToArray();
        var sends = new List<Task>();
        var invalidSends = new List<Task<DeliveryResult<byte[]?, byte[]>>>();
        for (var i = _published; i < _published + count; i++)
        {
            var kind = i % 3;
            var time = _start.AddMilliseconds(i * 120L);
            var value = Math.Round(_random.NextDouble() * 1000, 3);
            var user = $"user-{_random.Next(40)}";
            var device = $"device-{_random.Next(10)}";
            var published = kind switch
            {
                0 => new PublishedEvent(EventTypeOf[0], time.ToUnixTimeMilliseconds(), value, null, device),
                1 => new PublishedEvent(EventTypeOf[1], time.ToUnixTimeMilliseconds(), null, user, user),
                _ => new PublishedEvent(EventTypeOf[2], time.ToUnixTimeMilliseconds(), value, user, user),
            };
            Events.Add(published);
            var partition = i / 3 % partitions[kind];
            sends.Add(_producer.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]>
            {
                Key = System.Text.Encoding.UTF8.GetBytes(published.Actor),
                Value = await _serializer.SerializeAsync(Record(schema, $"evt-{i}", published, device), new SerializationContext(MessageComponentType.Value, Topics[kind])),
                Timestamp = new Timestamp(time),
            }));
            if (i % 2_000 == 7)
            {
                // Not the wire format, and an id the registry never gave.
                var bytes = i % 4_000 == 7 ? "{\"not\":\"avro\"}"u8.ToArray() : [0, 0x7f, 0xff, 0xff, 0x01, 2, 3];
                invalidSends.Add(_producer.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]> { Value = bytes, Timestamp = new Timestamp(time) }));
            }
        }

        _published += count;
        await Task.WhenAll(sends);
        foreach (var delivered in await Task.WhenAll(invalidSends))
        {
            Invalid.Add((delivered.Topic, delivered.Partition.Value, delivered.Offset.Value));
        }
    }

    /// <summary>The markers: an hour and more after the last event, one in every partition, so every partition's watermark passes every data window.</summary>
    public async Task PublishMarkersAsync()
    {
        var schema = (RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
        var marker = DateTimeOffset.UtcNow.AddMinutes(-1);
        var sends = new List<Task>();
        for (var kind = 0; kind < 3; kind++)
        {
            for (var partition = 0; partition < TopicPlan.Seed.Find(Topics[kind])!.Partitions; partition++)
            {
                var published = new PublishedEvent(EventTypeOf[kind], marker.ToUnixTimeMilliseconds(), kind == 1 ? null : 1, kind == 0 ? null : "marker", "marker");
                sends.Add(_producer.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]>
                {
                    Value = await _serializer.SerializeAsync(Record(schema, $"marker-{kind}-{partition}", published, "marker"), new SerializationContext(MessageComponentType.Value, Topics[kind])),
                    Timestamp = new Timestamp(marker),
                }));
            }
        }

        await Task.WhenAll(sends);
    }

    /// <summary>
    /// Starts <c>processor</c> with the job <paramref name="jobName"/> (its consumer group) and the three
    /// windows the reference computes, and waits until it is ready.
    /// </summary>
    public async Task<CliProcess> StartProcessorAsync(string name, string jobName, string dataDirectory)
    {
        var url = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var environment = PlatformProcesses.GatewayEnvironment(Bootstrap, RegistryUrl);
        var process = CliProcess.Start(name,
        [
            "processor", $"--Processor:Urls={url.ToString().TrimEnd('/')}", $"--Processor:JobName={jobName}", $"--Processor:DataDirectory={dataDirectory}",
            "--Processor:CheckpointInterval=00:00:00.100", "--Processor:IdleTimeout=00:10:00", "--Processor:StreamIdleTimeout=00:10:00",
            "--Processor:Windows:0:Kind=Tumbling", "--Processor:Windows:0:Size=00:01:00",
            "--Processor:Windows:1:Kind=Sliding", "--Processor:Windows:1:Size=00:05:00", "--Processor:Windows:1:Slide=00:01:00",
            "--Processor:Windows:2:Kind=Session", "--Processor:Windows:2:Size=00:30:00", "--Processor:Windows:2:PerUser=true",
            // A killed member's session must expire before its partitions are given to another.
            "--Kafka:Extra:session.timeout.ms=6000", "--Kafka:Extra:heartbeat.interval.ms=500",
            "--Logging:LogLevel:Default=Warning",
            // Its Information lines say when an instance skips the repartition hop (event 4019).
            "--Logging:LogLevel:EventPlatform.Streaming.Runtime.KafkaJobRunner=Information",
        ], environment);
        try
        {
            await process.WaitForHealthyAsync(new Uri(url, "health/ready"), PlatformProcesses.StartTimeout);
            _metrics[process] = new Uri(url, "metrics");
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops a processor cleanly (SIGTERM: a final checkpoint, the group left) and waits for it.</summary>
    public async Task StopAsync(CliProcess process)
    {
        if (NativeMethods.kill(process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed");
        }

        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        _metrics.Remove(process);
        await process.DisposeAsync();
    }

    /// <summary>Whether the processor logged that it skips the repartition hop, owning every partition (event 4019).</summary>
    public static bool WentLocal(CliProcess process) => process.Output.Contains("go to the window tasks in memory", StringComparison.Ordinal);

    /// <summary>Kills a processor with SIGKILL (no shutdown code runs) and waits for it.</summary>
    public async Task KillAsync(CliProcess process)
    {
        process.Kill();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        _metrics.Remove(process);
        await process.DisposeAsync();
    }

    /// <summary>
    /// The crash tests kill a run once it has checkpointed and read this many records, well short of their
    /// 30,000-event input (on checkpoint timing alone, a faster processor read a whole 12,000-event input
    /// before its second checkpoint).
    /// </summary>
    public const int KillAfterRecords = 4_000;

    /// <summary>Waits until the run has read at least <paramref name="records"/> records and written <paramref name="checkpoints"/> checkpoints.</summary>
    public async Task<(double Consumed, double Checkpoints)> WaitForProgressAsync(CliProcess process, int checkpoints = 2, int records = 1, TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            var text = await http.GetStringAsync(_metrics[process]);
            var consumed = Sum(text, "processor_records_consumed_total");
            var written = Sum(text, "processor_checkpoints_total");
            if (consumed >= records && written >= checkpoints)
            {
                return (consumed, written);
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{process.Name} made no progress:\n{process.Output}");
    }

    /// <summary>
    /// For an instance joining a running group: the members already there may read all the input before
    /// the rebalance gives it any, so more events are published, 500 at a time, until it reads some.
    /// </summary>
    public async Task PublishUntilProgressAsync(CliProcess process, int checkpoints = 2)
    {
        for (var round = 0; ; round++)
        {
            try
            {
                await WaitForProgressAsync(process, checkpoints, timeout: TimeSpan.FromSeconds(5));
                return;
            }
            catch (TimeoutException) when (round < 20)
            {
                await PublishAsync(500);
            }
        }
    }

    /// <summary>The records this processor has read so far (its consumed counter).</summary>
    public async Task<double> ConsumedAsync(CliProcess process) => Sum(await MetricsAsync(process), "processor_records_consumed_total");

    /// <summary>The processor's metrics page, as text.</summary>
    public async Task<string> MetricsAsync(CliProcess process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetStringAsync(_metrics[process]);
    }

    private static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>The end offsets of events.aggregated (by partition) and of events.dlq (by -1 - partition): where a run's output starts.</summary>
    public async Task<Dictionary<int, long>> EndsAsync()
    {
        var ends = await EndsAsync(TopicPlan.Aggregated);
        foreach (var (partition, end) in await EndsAsync(TopicPlan.DeadLetter))
        {
            ends[-1 - partition] = end;
        }

        return ends;
    }

    private Task<Dictionary<int, long>> EndsAsync(string topic) => Task.Run(() =>
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "ends-" + Guid.NewGuid() }).Build();
        var spec = TopicPlan.Seed.Find(topic)!;
        return Enumerable.Range(0, spec.Partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    });

    /// <summary>
    /// Reads events.aggregated past <paramref name="from"/> to its end until every window has a result
    /// (and, with <paramref name="expected"/>, until the last copy per key has its bytes), then returns
    /// the last copy per key. Every copy is decoded, and its key must name its window.
    /// </summary>
    public async Task<Dictionary<string, WindowResultCopy>> WaitForResultsAsync(Dictionary<int, long> from, int windows, TimeSpan timeout,
        Dictionary<string, WindowResultCopy>? expected = null)
    {
        var deserializer = new AvroDeserializer<GenericRecord>(Registry);
        var deadline = DateTime.UtcNow + timeout;
        Dictionary<string, WindowResultCopy> last = [];
        while (DateTime.UtcNow < deadline)
        {
            var records = await KafkaReader.ReadAllAsync(Bootstrap, TopicPlan.Aggregated);
            last = [];
            foreach (var record in records.Where(r => r.Offset.Value >= from.GetValueOrDefault(r.Partition.Value)).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value))
            {
                var value = await deserializer.DeserializeAsync(record.Message.Value, false, new SerializationContext(MessageComponentType.Value, TopicPlan.Aggregated));
                var key = System.Text.Encoding.UTF8.GetString(record.Message.Key!);
                Assert.Equal(key, WindowKey(value));
                last[key] = new WindowResultCopy(Figures(value), record.Message.Value);
            }

            if (last.Count >= windows && (expected is null || expected.All(e => last.TryGetValue(e.Key, out var copy) && copy.Value.AsSpan().SequenceEqual(e.Value.Value))))
            {
                return last;
            }

            await Task.Delay(500);
        }

        return last;
    }

    /// <summary>Every copy of every result in events.aggregated past <paramref name="from"/>, by key, in the order written.</summary>
    public async Task<Dictionary<string, List<byte[]>>> AllCopiesAsync(Dictionary<int, long> from)
    {
        var copies = new Dictionary<string, List<byte[]>>();
        foreach (var record in (await KafkaReader.ReadAllAsync(Bootstrap, TopicPlan.Aggregated)).Where(r => r.Offset.Value >= from.GetValueOrDefault(r.Partition.Value)))
        {
            var key = System.Text.Encoding.UTF8.GetString(record.Message.Key!);
            if (!copies.TryGetValue(key, out var list))
            {
                copies[key] = list = [];
            }

            list.Add(record.Message.Value);
        }

        return copies;
    }

    /// <summary>The coordinates of the DLQ records past <paramref name="from"/>, every copy.</summary>
    public async Task<List<(string, int, long)>> DeadLettersAsync(Dictionary<int, long> from)
    {
        var records = await KafkaReader.ReadAllAsync(Bootstrap, TopicPlan.DeadLetter);
        return [.. records.Where(r => r.Offset.Value >= from.GetValueOrDefault(-1 - r.Partition.Value))
            .Select(r => System.Text.Json.JsonSerializer.Deserialize(r.Message.Value, CoreJsonContext.Api.DlqMessage)!)
            .Select(d => (d.SourceTopic, d.SourcePartition, d.SourceOffset))];
    }

    /// <summary>Asserts that two runs' last results are equal byte for byte under every key, naming the keys that differ.</summary>
    public static void AssertSameBytes(Dictionary<string, WindowResultCopy> expected, Dictionary<string, WindowResultCopy> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        var differing = expected.Where(e => !actual[e.Key].Value.AsSpan().SequenceEqual(e.Value.Value))
            .Select(e => $"{e.Key}: expected {e.Value.Figures}, {what} {actual[e.Key].Figures}").ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} results differ:\n" + string.Join("\n", differing.Take(20)));
    }

    private static GenericRecord Record(RecordSchema schema, string id, PublishedEvent e, string device)
    {
        var record = new GenericRecord(schema);
        record.Add("event_id", id);
        record.Add("timestamp", e.Time);
        record.Add("event_type", e.Type);
        record.Add("user_id", e.User);
        record.Add("device_id", e.Type == "iot.sensor" ? device : null);
        record.Add("payload", e.Type switch
        {
            "iot.sensor" => $"{{\"temperature\":{e.Value!.Value.ToString(CultureInfo.InvariantCulture)}}}",
            "transaction" => $"{{\"amount\":{e.Value!.Value.ToString(CultureInfo.InvariantCulture)},\"currency\":\"EUR\"}}",
            _ => "{\"page\":\"/home\"}",
        });
        return record;
    }

    /// <summary>The plain reference: every window of the three definitions over <paramref name="events"/>, by brute force.</summary>
    public static Dictionary<string, (long Count, double? Sum, double? Avg, double? Min, double? Max, long Users)> Reference(List<PublishedEvent> events)
    {
        var windows = new Dictionary<string, List<PublishedEvent>>();
        void Add(string key, PublishedEvent e)
        {
            if (!windows.TryGetValue(key, out var list))
            {
                windows[key] = list = [];
            }

            list.Add(e);
        }

        foreach (var e in events)
        {
            Add($"{e.Type}|tumbling|60000|{e.Time / 60_000 * 60_000}|", e);
            for (var s = e.Time / 60_000 * 60_000; s > e.Time - 300_000; s -= 60_000)
            {
                Add($"{e.Type}|sliding|300000|{s}|", e);
            }
        }

        foreach (var actor in events.GroupBy(e => (e.Type, e.Actor)))
        {
            long sessionStart = 0, sessionEnd = long.MinValue;
            foreach (var e in actor.OrderBy(e => e.Time))
            {
                if (e.Time >= sessionEnd)
                {
                    sessionStart = e.Time;
                }

                sessionEnd = e.Time + 1_800_000;
                Add($"{e.Type}|session|1800000|{sessionStart}|{actor.Key.Actor}", e);
            }
        }

        return windows.ToDictionary(w => w.Key, w =>
        {
            var values = w.Value.Where(e => e.Value is not null).Select(e => e.Value!.Value).ToList();
            return ((long)w.Value.Count, values.Count == 0 ? (double?)null : values.Sum(), values.Count == 0 ? (double?)null : values.Average(), values.Count == 0 ? (double?)null : values.Min(),
                values.Count == 0 ? (double?)null : values.Max(), w.Value.Where(e => e.User is not null).Select(e => e.User).Distinct().LongCount());
        });
    }

    public static void AssertMatchesReference(Dictionary<string, (long Count, double? Sum, double? Avg, double? Min, double? Max, long Users)> reference, Dictionary<string, WindowResultCopy> results)
    {
        var byWindow = results.Values.Select(v => v.Figures.Split(';')).ToDictionary(f => f[0], f => f);
        Assert.Equal(reference.Keys.Order(), byWindow.Keys.Order());
        foreach (var (window, expected) in reference)
        {
            var f = byWindow[window];
            Assert.Equal(expected.Count, long.Parse(f[1], CultureInfo.InvariantCulture));
            Assert.Equal(expected.Users, long.Parse(f[6], CultureInfo.InvariantCulture));
            // processed_time is the window's close in event time: its end.
            Assert.Equal(f[7], f[9]);
            if (expected.Sum is null)
            {
                Assert.Equal("", f[2]);
                continue;
            }

            // Relative tolerance: the job sums with Neumaier compensation, the reference naively.
            Assert.Equal(expected.Sum.Value, double.Parse(f[2], CultureInfo.InvariantCulture), 1e-9 * Math.Max(1, Math.Abs(expected.Sum.Value)));
            Assert.Equal(expected.Avg!.Value, double.Parse(f[3], CultureInfo.InvariantCulture), 1e-9 * Math.Max(1, Math.Abs(expected.Avg.Value)));
            Assert.Equal(expected.Min!.Value, double.Parse(f[4], CultureInfo.InvariantCulture));
            Assert.Equal(expected.Max!.Value, double.Parse(f[5], CultureInfo.InvariantCulture));
        }
    }

    private static string WindowKey(GenericRecord r)
    {
        var start = ((DateTime)r["window_start"]).ToUniversalTime();
        var startText = start.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var size = (string)r["window_kind"] == "sliding" ? $"{r["window_size_ms"]}/{r["window_slide_ms"]}" : $"{r["window_size_ms"]}";
        return $"{r["event_type"]}|{r["window_kind"]}|{size}|{startText}" + (r["window_key"] is string key ? "|" + key : "");
    }

    /// <summary>A result's window (as the reference names it) and every field: figures, end, update flag, processed time.</summary>
    private static string Figures(GenericRecord r)
    {
        var start = new DateTimeOffset(((DateTime)r["window_start"]).ToUniversalTime()).ToUnixTimeMilliseconds();
        static string D(object? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        return string.Join(';',
            $"{r["event_type"]}|{r["window_kind"]}|{r["window_size_ms"]}|{start}|{r["window_key"]}",
            r["count"], D(r["sum_value"]), D(r["avg_value"]), D(r["min_value"]), D(r["max_value"]), r["distinct_users"],
            ToMs(r["window_end"]), r["is_update"], ToMs(r["processed_time"]));
    }

    private static long ToMs(object v) => new DateTimeOffset(((DateTime)v).ToUniversalTime()).ToUnixTimeMilliseconds();

    private const int SigTerm = 15;

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc is the system's own library; DllImport keeps this test helper short.
        internal static extern int kill(int pid, int sig);
#pragma warning restore CA5392, SYSLIB1054
    }
}
