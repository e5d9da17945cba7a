using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Processor.Output;
using EventPlatform.Schemas.Avro;
using EventPlatform.Sink.Destinations;
using EventPlatform.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Sink.Tests;

/// <summary>The embedded broker and a registry shared by a test class; each test gets its own topic, connector (group) and DuckDB file.</summary>
public sealed class SinkFixture : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public EmbeddedKafkaCluster Cluster => _kafka.Cluster;

    public RegistryServer Registry { get; private set; } = null!;

    public int EventSchemaId { get; private set; }

    public int AggregateSchemaId { get; private set; }

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Registry = await RegistryServer.StartAsync(Cluster);
        using var client = new CachedSchemaRegistryClient(Registry.ClientConfig());
        EventSchemaId = await client.RegisterSchemaAsync("sink-tests-event", new Schema(SeedAvroSchemas.EventWithMetadata, SchemaType.Avro));
        AggregateSchemaId = await client.RegisterSchemaAsync(AggregatedEventSchema.Subject, new Schema(AggregatedEventSchema.Avro, SchemaType.Avro));
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    /// <summary>A new topic of <paramref name="partitions"/> partitions (raw topics are any name but events.aggregated).</summary>
    public string NewTopic(int partitions = 4, string prefix = "events.sinktest-")
    {
        var topic = prefix + Guid.NewGuid().ToString("N")[..10];
        Cluster.CreateTopic(topic, partitions, 1);
        return topic;
    }

    public async Task ProduceAsync(string topic, IEnumerable<(string? Key, byte[] Value)> records)
    {
        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, EnableIdempotence = true, LingerMs = 5 }).Build();
        foreach (var (key, value) in records)
        {
            producer.Produce(topic, new Message<string?, byte[]> { Key = key, Value = value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        await Task.CompletedTask;
    }

    /// <summary>The sink in this process, reading <paramref name="topics"/> into <paramref name="database"/>.</summary>
    public async Task<WebApplication> StartSinkAsync(string database, string topics, IReadOnlyDictionary<string, string?>? more = null, Action<IServiceCollection>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sink:Urls"] = "http://127.0.0.1:0",
            ["Sink:DatabasePath"] = database,
            ["Sink:Connector:name"] = "sink-test-" + Guid.NewGuid().ToString("N")[..8],
            ["Sink:Connector:topics"] = topics,
            ["Sink:Connector:buffer.count.records"] = "100",
            ["Sink:Connector:buffer.flush.time"] = "0.2",
            ["Sink:RetryBaseDelay"] = "00:00:00.010",
            ["Sink:RetryMaxDelay"] = "00:00:00.200",
            ["Kafka:BootstrapServers"] = Cluster.BootstrapServers,
            ["SchemaRegistry:Url"] = Registry.Url,
            ["SchemaRegistry:BasicAuthUserInfo"] = RegistryServer.AdminUserInfo,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = SinkApp.Create([], settings, services =>
        {
            services.AddSingleton(Cluster);
            configure?.Invoke(services);
        });
        await app.StartAsync();
        return app;
    }

    public static DuckDbDestination Warehouse(WebApplication sink) =>
        sink.Services.GetRequiredService<IWarehouseDestination>() switch
        {
            DuckDbDestination duck => duck,
            Flaky flaky => flaky.Inner,
            var other => throw new InvalidOperationException(other.GetType().Name),
        };

    public static async Task<long> CountAsync(WebApplication sink, string sql) =>
        // sum() of BIGINT is a HUGEINT, read as a BigInteger.
        (await Warehouse(sink).QueryAsync(sql, CancellationToken.None))[0][0] switch
        {
            System.Numerics.BigInteger big => (long)big,
            var value => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary>Waits until <paramref name="sql"/> counts <paramref name="expected"/>, polling (a condition, not a sleep).</summary>
    public static async Task WaitForCountAsync(WebApplication sink, string sql, long expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        long last = -1;
        while (DateTime.UtcNow < deadline)
        {
            last = await CountAsync(sink, sql);
            if (last >= expected)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"'{sql}' counted {last}, not {expected}, in time.");
    }

    /// <summary>The DLQ messages whose source is <paramref name="topic"/>, read to the end of events.dlq.</summary>
    public async Task<List<DlqMessage>> DeadLettersAsync(string topic)
    {
        var records = await KafkaReader.ReadAllAsync(Cluster.BootstrapServers, "events.dlq");
        return [.. records.Select(r => JsonSerializer.Deserialize(r.Message.Value, CoreJsonContext.Default.DlqMessage)!).Where(m => m.SourceTopic == topic)];
    }

    /// <summary>A warehouse that fails as told (a fault injector around the real DuckDB).</summary>
    public sealed class Flaky(DuckDbDestination inner, Func<IReadOnlyList<Transformation.WarehouseRow>, DestinationException?> fault) : IWarehouseDestination
    {
        public DuckDbDestination Inner => inner;

        public int Failures;

        public string Name => inner.Name;

        public Task EnsureTablesAsync(CancellationToken cancellationToken) => inner.EnsureTablesAsync(cancellationToken);

        public Task<WarehouseOffsets> ReadOffsetsAsync(string clusterId, CancellationToken cancellationToken) => inner.ReadOffsetsAsync(clusterId, cancellationToken);

        public Task WriteAsync(string clusterId, IReadOnlyList<Transformation.WarehouseRow> rows, IReadOnlyList<StoredOffset> offsets, CancellationToken cancellationToken)
        {
            if (fault(rows) is { } failure)
            {
                Interlocked.Increment(ref Failures);
                throw failure;
            }

            return inner.WriteAsync(clusterId, rows, offsets, cancellationToken);
        }

        public Task<bool> IsAvailableAsync(CancellationToken cancellationToken) => inner.IsAvailableAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
