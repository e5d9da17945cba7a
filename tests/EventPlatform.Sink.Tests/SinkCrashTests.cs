using Confluent.Kafka;
using Confluent.SchemaRegistry;
using DuckDB.NET.Data;
using EventPlatform.Schemas.Avro;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// Properties 15 and 21 across crashes: the <c>sink</c> command in a child process against the
/// <c>broker</c> command in its own process, killed with SIGKILL mid-stream twice and restarted.
/// Read to the end, the warehouse holds every event exactly once, none missing.
/// </summary>
public sealed class SinkCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "events.iot.sensors";
    private const string Connector = "crash-sink";
    private const int Events = 20_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("sink-crash-").FullName;
    private CliProcess _broker = null!;
    private string _bootstrap = null!;

    public async Task InitializeAsync() => (_broker, _bootstrap) = await PlatformProcesses.StartBrokerAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Every_event_lands_exactly_once_across_two_sigkills_of_the_sink_mid_stream()
    {
        var (registryProcess, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", _bootstrap);
        await using var registry = registryProcess;
        int schemaId;
        using (var client = new CachedSchemaRegistryClient(PlatformProcesses.RegistryClientConfig(registryUrl.ToString().TrimEnd('/'))))
        {
            schemaId = await client.RegisterSchemaAsync(Topic + "-value", new Schema(SeedAvroSchemas.EventWithMetadata, SchemaType.Avro));
        }

        var database = Path.Combine(_directory, "warehouse.duckdb");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var phase = System.Diagnostics.Stopwatch.StartNew();
        var producing = Task.Run(() => Produce(schemaId));

        // Crash twice, each time once the sink has committed more to the warehouse (seen through the group's offsets).
        for (var crash = 1; crash <= 2; crash++)
        {
            var before = CommittedTotal();
            var sink = await StartSinkAsync($"sink-{crash}", database, registryUrl);
            await WaitAsync(() => CommittedTotal() > before + 1000, TimeSpan.FromSeconds(90), sink, "the sink to commit more rows");
            sink.Kill();
            output.WriteLine($"crash {crash}: killed with {CommittedTotal()} offsets committed after {phase.Elapsed.TotalSeconds:F1} s");
            await sink.DisposeAsync();
            phase.Restart();
        }

        await producing;
        output.WriteLine($"producing done {clock.Elapsed.TotalSeconds:F1} s after the start");
        phase.Restart();
        var last = await StartSinkAsync("sink-3", database, registryUrl);
        output.WriteLine($"last sink healthy after {phase.Elapsed.TotalSeconds:F1} s, {CommittedTotal()} offsets committed");
        await WaitAsync(() => CommittedTotal() == Events, TimeSpan.FromSeconds(120), last, "every offset to be committed");
        output.WriteLine($"last sink: every offset committed after {phase.Elapsed.TotalSeconds:F1} s; {clock.Elapsed.TotalSeconds:F1} s in all");
        last.Kill();
        await last.DisposeAsync();

        // Read every row back: each event once, none missing.
        using var connection = new DuckDBConnection("Data Source=" + database);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT event_id FROM events";
        var ids = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
        }

        Assert.Equal(Events, ids.Count);
        Assert.Equal(Enumerable.Range(0, Events).Select(i => "evt_crash_" + i).Order(), ids.Order());
        command.CommandText = $"SELECT sum(next_offset)::BIGINT FROM sink_offsets WHERE topic = '{Topic}'";
        Assert.Equal(Events, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Events produced steadily over ~8 s, so the kills land mid-stream.</summary>
    private void Produce(int schemaId)
    {
        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig { BootstrapServers = _bootstrap, EnableIdempotence = true, LingerMs = 5 }).Build();
        for (var i = 0; i < Events; i++)
        {
            producer.Produce(Topic, new Message<string?, byte[]>
            {
                Key = "device_" + (i % 101),
                Value = SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("evt_crash_" + i), schemaId),
            });
            if (i % 500 == 499)
            {
                producer.Flush(TimeSpan.FromSeconds(30));
                Thread.Sleep(200);
            }
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    private async Task<CliProcess> StartSinkAsync(string name, string database, Uri registryUrl)
    {
        var port = PlatformProcesses.FreePort();
        var sink = CliProcess.Start(name,
        [
            "sink",
            $"--Sink:Urls=http://127.0.0.1:{port}",
            $"--Sink:DatabasePath={database}",
            $"--Sink:Connector:name={Connector}",
            $"--Sink:Connector:topics={Topic}",
            "--Sink:Connector:buffer.count.records=500",
            "--Sink:Connector:buffer.flush.time=0.2",
            // A killed member's partitions move on after 6 s, not Kafka's default 45 s.
            "--Kafka:Extra:session.timeout.ms=6000",
            "--Kafka:Extra:heartbeat.interval.ms=1000",
        ], new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = _bootstrap,
            ["SCHEMA_REGISTRY_URL"] = registryUrl.ToString().TrimEnd('/'),
            ["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = RegistryServer.AdminUserInfo,
        });
        await sink.WaitForHealthyAsync(new Uri($"http://127.0.0.1:{port}/health/live"), PlatformProcesses.StartTimeout);
        return sink;
    }

    /// <summary>The connector group's committed offsets summed over the topic's partitions (committed only after the warehouse commit).</summary>
    private long CommittedTotal()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _bootstrap }).Build();
        var metadata = admin.GetMetadata(Topic, TimeSpan.FromSeconds(10));
        var partitions = metadata.Topics.Single().Partitions.Select(p => new TopicPartition(Topic, p.PartitionId)).ToList();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = "connect-" + Connector }).Build();
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).Where(p => p.Offset.Value > 0).Sum(p => p.Offset.Value);
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, CliProcess process, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return;
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited while waiting for {what}:\n{process.Output}");
            }

            await Task.Delay(100);
        }

        throw process.Failure(what);
    }
}
