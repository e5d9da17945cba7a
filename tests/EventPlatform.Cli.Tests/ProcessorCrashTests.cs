using System.Globalization;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using EventPlatform.Core;
using EventPlatform.Core.Topics;
using EventPlatform.Schemas.Avro;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// The <c>processor</c> command against the <c>broker</c> command and a <c>registry</c>, each in its
/// own process: results read back with Confluent's AvroDeserializer equal a plain reference
/// computation, invalid records are in events.dlq with their coordinates, and a processor killed with
/// SIGKILL three times mid-stream ends with, per window key, exactly a clean run's result (issue 10, item 3).
/// </summary>
public sealed class ProcessorCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DataEvents = 30_000;
    private static readonly string[] Topics = ["events.iot.sensors", "events.clickstream", "events.transactions"];
    private static readonly string[] EventTypeOf = ["iot.sensor", "clickstream", "transaction"];

    private readonly Dictionary<CliProcess, Uri> _metrics = [];
    private CliProcess _broker = null!;
    private string _bootstrap = null!;
    private string _registry = null!;

    public async Task InitializeAsync() => (_broker, _bootstrap) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task A_processor_killed_three_times_mid_stream_ends_with_a_clean_runs_results_which_match_a_reference()
    {
        var (registryProcess, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", _bootstrap);
        await using var registry = registryProcess;
        _registry = registryUrl.ToString().TrimEnd('/');
        using var registryClient = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(_registry));

        // 1. The input: events of the three types, ascending in time in every partition, a few invalid
        //    records between them, then one marker per partition an hour and more later, which closes every window.
        var (events, invalid) = await PublishAsync(registryClient);
        var reference = Reference(events);
        output.WriteLine($"{events.Count} events, {invalid.Count} invalid records, {reference.Count} windows in the reference");

        // 2. A clean run: its results must equal the reference.
        var cleanStart = await EndsAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("processor-crash-").FullName;
        try
        {
            var clean = await StartProcessorAsync("processor-clean", "clean", Path.Combine(dataDirectory, "clean"));
            var cleanResults = await WaitForResultsAsync(registryClient, cleanStart, reference.Count, TimeSpan.FromSeconds(60));
            output.WriteLine($"clean run: {cleanResults.Values.Count(v => v.EndsWith(";True", StringComparison.Ordinal))} of {cleanResults.Count} last results are late updates");
            await clean.DisposeAsync();
            AssertMatchesReference(reference, cleanResults);
            var cleanDead = await DeadLettersAsync(cleanStart);
            Assert.Equal(invalid.Order(), cleanDead.Order());

            // 3. The same input read by another job, killed with SIGKILL three times mid-stream.
            var crashStart = await EndsAsync();
            for (var kill = 1; kill <= 3; kill++)
            {
                var doomed = await StartProcessorAsync($"processor-crash-{kill}", "crashing", Path.Combine(dataDirectory, "crashing"));
                var (consumed, checkpoints) = await WaitForProgressAsync(doomed);
                doomed.Kill();
                await doomed.WaitForExitAsync(TimeSpan.FromSeconds(30));
                output.WriteLine($"kill {kill}: SIGKILL after {consumed} records read and {checkpoints} checkpoints in that run");
                Assert.True(consumed < events.Count + invalid.Count, "the kill came after the input was read through: not mid-stream");
                await doomed.DisposeAsync();
            }

            await using var last = await StartProcessorAsync("processor-crash-final", "crashing", Path.Combine(dataDirectory, "crashing"));
            var crashResults = await WaitForResultsAsync(registryClient, crashStart, reference.Count, TimeSpan.FromSeconds(90), cleanResults);
            Assert.Equal(cleanResults.Keys.Order(), crashResults.Keys.Order());
            var differing = cleanResults.Where(c => crashResults[c.Key] != c.Value).Select(c => $"{c.Key}: clean {c.Value}, after crashes {crashResults[c.Key]}").ToList();
            Assert.True(differing.Count == 0, string.Join("\n", differing));

            // Every invalid record reached the DLQ at least once (a replay may write an identical copy).
            Assert.Subset((await DeadLettersAsync(crashStart)).ToHashSet(), invalid.ToHashSet());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private async Task<CliProcess> StartProcessorAsync(string name, string jobName, string dataDirectory)
    {
        var url = new Uri($"http://127.0.0.1:{PlatformProcesses.FreePort()}/");
        var environment = PlatformProcesses.GatewayEnvironment(_bootstrap, _registry);
        var process = CliProcess.Start(name,
        [
            "processor", $"--Processor:Urls={url.ToString().TrimEnd('/')}", $"--Processor:JobName={jobName}", $"--Processor:DataDirectory={dataDirectory}",
            "--Processor:CheckpointInterval=00:00:00.100", "--Processor:IdleTimeout=00:10:00", "--Processor:StreamIdleTimeout=00:10:00",
            "--Processor:Windows:0:Kind=Tumbling", "--Processor:Windows:0:Size=00:01:00",
            "--Processor:Windows:1:Kind=Sliding", "--Processor:Windows:1:Size=00:05:00", "--Processor:Windows:1:Slide=00:01:00",
            "--Processor:Windows:2:Kind=Session", "--Processor:Windows:2:Size=00:30:00", "--Processor:Windows:2:PerUser=true",
            // A killed member's session must expire before the restarted one is given its partitions.
            "--Kafka:Extra:session.timeout.ms=6000", "--Kafka:Extra:heartbeat.interval.ms=500",
            "--Logging:LogLevel:Default=Warning",
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

    /// <summary>Waits until the run has read records and written two checkpoints: somewhere inside the input.</summary>
    private async Task<(double Consumed, double Checkpoints)> WaitForProgressAsync(CliProcess process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var text = await http.GetStringAsync(_metrics[process]);
            var consumed = Sum(text, "flink_taskmanager_job_task_operator_records_consumed_total");
            var checkpoints = Sum(text, "processor_checkpoints_total");
            if (consumed > 0 && checkpoints >= 2)
            {
                return (consumed, checkpoints);
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{process.Name} made no progress:\n{process.Output}");
    }

    private static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>
    /// Reads events.aggregated past <paramref name="from"/> to its end until every window has a result
    /// (and, with <paramref name="expected"/>, until the last result per key equals it), then returns the last result per key.
    /// </summary>
    private async Task<Dictionary<string, string>> WaitForResultsAsync(ISchemaRegistryClient registry, Dictionary<int, long> from, int windows, TimeSpan timeout,
        Dictionary<string, string>? expected = null)
    {
        var deserializer = new AvroDeserializer<GenericRecord>(registry);
        var deadline = DateTime.UtcNow + timeout;
        Dictionary<string, string> last = [];
        while (DateTime.UtcNow < deadline)
        {
            var records = await KafkaReader.ReadAllAsync(_bootstrap, TopicPlan.Aggregated);
            last = [];
            foreach (var record in records.Where(r => r.Offset.Value >= from.GetValueOrDefault(r.Partition.Value)).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value))
            {
                var value = await deserializer.DeserializeAsync(record.Message.Value, false, new SerializationContext(MessageComponentType.Value, TopicPlan.Aggregated));
                var key = System.Text.Encoding.UTF8.GetString(record.Message.Key!);
                Assert.Equal(key, WindowKey(value));
                last[key] = Figures(value);
            }

            if (last.Count >= windows && (expected is null || expected.All(e => last.GetValueOrDefault(e.Key) == e.Value)))
            {
                return last;
            }

            await Task.Delay(500);
        }

        return last;
    }

    private async Task<List<(string, int, long)>> DeadLettersAsync(Dictionary<int, long> from)
    {
        var records = await KafkaReader.ReadAllAsync(_bootstrap, TopicPlan.DeadLetter);
        return [.. records.Where(r => r.Offset.Value >= from.GetValueOrDefault(-1 - r.Partition.Value))
            .Select(r => System.Text.Json.JsonSerializer.Deserialize(r.Message.Value, CoreJsonContext.Api.DlqMessage)!)
            .Select(d => (d.SourceTopic, d.SourcePartition, d.SourceOffset))];
    }

    /// <summary>The end offsets of events.aggregated (by partition) and of events.dlq (by -1 - partition).</summary>
    private async Task<Dictionary<int, long>> EndsAsync()
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
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = "ends-" + Guid.NewGuid() }).Build();
        var spec = TopicPlan.Seed.Find(topic)!;
        return Enumerable.Range(0, spec.Partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    });

    private sealed record Published(string Type, long Time, double? Value, string? User, string Actor);

    private async Task<(List<Published> Events, List<(string, int, long)> Invalid)> PublishAsync(ISchemaRegistryClient registry)
    {
        var schema = (RecordSchema)Avro.Schema.Parse(SeedAvroSchemas.Event);
        // Values are serialized one after the other and produced by an idempotent producer, so every
        // partition holds its events in the order written (an async serializer's continuations, or a
        // retry, could otherwise reorder them and make records late).
        var serializer = new AvroSerializer<GenericRecord>(registry, new AvroSerializerConfig { AutoRegisterSchemas = true });
        using var raw = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _bootstrap, EnableIdempotence = true, LingerMs = 5 }).Build();
        var partitions = Topics.Select(t => TopicPlan.Seed.Find(t)!.Partitions).ToArray();
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        start = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
        var random = new Random(10);
        var events = new List<Published>();
        var invalid = new List<(string, int, long)>();
        var sends = new List<Task>();
        var invalidSends = new List<Task<DeliveryResult<byte[]?, byte[]>>>();
        for (var i = 0; i < DataEvents; i++)
        {
            var kind = i % 3;
            var time = start.AddMilliseconds(i * 120L);
            var value = Math.Round(random.NextDouble() * 1000, 3);
            var user = $"user-{random.Next(40)}";
            var device = $"device-{random.Next(10)}";
            var published = kind switch
            {
                0 => new Published(EventTypeOf[0], time.ToUnixTimeMilliseconds(), value, null, device),
                1 => new Published(EventTypeOf[1], time.ToUnixTimeMilliseconds(), null, user, user),
                _ => new Published(EventTypeOf[2], time.ToUnixTimeMilliseconds(), value, user, user),
            };
            events.Add(published);
            var partition = i / 3 % partitions[kind];
            sends.Add(raw.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]>
            {
                Key = System.Text.Encoding.UTF8.GetBytes(published.Actor),
                Value = await serializer.SerializeAsync(Record(schema, $"evt-{i}", published, device), new SerializationContext(MessageComponentType.Value, Topics[kind])),
                Timestamp = new Timestamp(time),
            }));
            if (i % 2_000 == 7)
            {
                // Not the wire format, and an id the registry never gave.
                var bytes = i % 4_000 == 7 ? "{\"not\":\"avro\"}"u8.ToArray() : [0, 0x7f, 0xff, 0xff, 0x01, 2, 3];
                invalidSends.Add(raw.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]> { Value = bytes, Timestamp = new Timestamp(time) }));
            }
        }

        // The markers: an hour and more after the last event, one in every partition, so every partition's watermark passes every data window.
        var marker = DateTimeOffset.UtcNow.AddMinutes(-1);
        for (var kind = 0; kind < 3; kind++)
        {
            for (var partition = 0; partition < partitions[kind]; partition++)
            {
                var published = new Published(EventTypeOf[kind], marker.ToUnixTimeMilliseconds(), kind == 1 ? null : 1, kind == 0 ? null : "marker", "marker");
                sends.Add(raw.ProduceAsync(new TopicPartition(Topics[kind], partition), new Message<byte[]?, byte[]>
                {
                    Value = await serializer.SerializeAsync(Record(schema, $"marker-{kind}-{partition}", published, "marker"), new SerializationContext(MessageComponentType.Value, Topics[kind])),
                    Timestamp = new Timestamp(marker),
                }));
            }
        }

        await Task.WhenAll(sends);
        foreach (var delivered in await Task.WhenAll(invalidSends))
        {
            invalid.Add((delivered.Topic, delivered.Partition.Value, delivered.Offset.Value));
        }

        return (events, invalid);
    }

    private static GenericRecord Record(RecordSchema schema, string id, Published e, string device)
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

    /// <summary>The plain reference: every window of the three definitions, by brute force.</summary>
    private static Dictionary<string, (long Count, double? Sum, double? Avg, double? Min, double? Max, long Users)> Reference(List<Published> events)
    {
        var windows = new Dictionary<string, List<Published>>();
        void Add(string key, Published e)
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

    private static void AssertMatchesReference(Dictionary<string, (long Count, double? Sum, double? Avg, double? Min, double? Max, long Users)> reference, Dictionary<string, string> results)
    {
        var byWindow = results.Values.Select(v => v.Split(';')).ToDictionary(f => f[0], f => f);
        Assert.Equal(reference.Keys.Order(), byWindow.Keys.Order());
        foreach (var (window, expected) in reference)
        {
            var f = byWindow[window];
            Assert.Equal(expected.Count, long.Parse(f[1], CultureInfo.InvariantCulture));
            Assert.Equal(expected.Users, long.Parse(f[6], CultureInfo.InvariantCulture));
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

    /// <summary>A result's window (as the reference names it) and figures, without processed_time (a replay's clock differs).</summary>
    private static string Figures(GenericRecord r)
    {
        var start = new DateTimeOffset(((DateTime)r["window_start"]).ToUniversalTime()).ToUnixTimeMilliseconds();
        static string D(object? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        return string.Join(';',
            $"{r["event_type"]}|{r["window_kind"]}|{r["window_size_ms"]}|{start}|{r["window_key"]}",
            r["count"], D(r["sum_value"]), D(r["avg_value"]), D(r["min_value"]), D(r["max_value"]), r["distinct_users"],
            ToMs(r["window_end"]), r["is_update"]);
    }

    private static long ToMs(object v) => new DateTimeOffset(((DateTime)v).ToUniversalTime()).ToUnixTimeMilliseconds();
}
