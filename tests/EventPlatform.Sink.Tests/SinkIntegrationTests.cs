using System.Text;
using DuckDB.NET.Data;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// The sink on the embedded broker with a real registry and a real DuckDB file: every record lands
/// once, bad ones go to the DLQ while the rest land, retries and outages never send good rows there.
/// </summary>
public sealed class SinkIntegrationTests(SinkFixture fixture) : IClassFixture<SinkFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sink-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Database => Path.Combine(_directory, "warehouse.duckdb");

    [Fact]
    public async Task Events_in_a_raw_topic_land_in_duckdb_exactly_once_and_offsets_of_another_cluster_are_not_applied()
    {
        var topic = fixture.NewTopic(partitions: 4);
        // Offsets a previous embedded broker left: applied, they would skip every record.
        await SeedForeignOffsetsAsync(topic);
        const int Distinct = 2000;
        var records = Enumerable.Range(0, Distinct)
            .Select(i => ((string?)("device_" + (i % 37)), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("evt_" + i), fixture.EventSchemaId)))
            .ToList();
        // The same events again (a producer's retry): still one row each.
        records.AddRange(records.Take(300).ToList());
        await fixture.ProduceAsync(topic, records);

        await using var sink = await fixture.StartSinkAsync(Database, topic);
        await SinkFixture.WaitForCountAsync(sink, $"SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = '{topic}' AND cluster_id <> 'other-cluster'", records.Count);

        var ids = await SinkFixture.Warehouse(sink).QueryAsync("SELECT event_id FROM events", CancellationToken.None);
        Assert.Equal(Distinct, ids.Count);
        Assert.Equal(Enumerable.Range(0, Distinct).Select(i => "evt_" + i).Order(), ids.Select(r => (string)r[0]!).Order());
        Assert.Equal(0, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events WHERE payload IS NULL OR ingestion_time IS NULL OR \"timestamp\" IS NULL OR event_type IS NULL"));
        Assert.Equal(22.5, Convert.ToDouble((await SinkFixture.Warehouse(sink).QueryAsync("SELECT payload->>'temperature' FROM events LIMIT 1", CancellationToken.None))[0][0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1000, await SinkFixture.CountAsync(sink, $"SELECT next_offset FROM sink_offsets WHERE cluster_id = 'other-cluster'"));
        Assert.Empty(await fixture.DeadLettersAsync(topic));
    }

    [Fact]
    public async Task Warehouse_offsets_ahead_of_the_groups_commit_are_committed_to_kafka_on_assignment_with_nothing_left_to_read()
    {
        var topic = fixture.NewTopic(partitions: 2);
        var records = Enumerable.Range(0, 300)
            .Select(i => ((string?)("device_" + (i % 7)), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("evt_ahead_" + i), fixture.EventSchemaId)))
            .ToList();
        await fixture.ProduceAsync(topic, records);
        var offsetsSql = $"SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = '{topic}'";
        await using (var first = await fixture.StartSinkAsync(Database, topic))
        {
            await SinkFixture.WaitForCountAsync(first, offsetsSql, records.Count);
            await first.StopAsync();
        }

        // A group that never committed: as if the kill came between the warehouse commit and the Kafka commit.
        const string Connector = "sink-test-lost-commit";
        await using var second = await fixture.StartSinkAsync(Database, topic, new Dictionary<string, string?> { ["Sink:Connector:name"] = Connector });
        using var group = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = fixture.Cluster.BootstrapServers, GroupId = "connect-" + Connector }).Build();
        var partitions = new[] { new Confluent.Kafka.TopicPartition(topic, 0), new Confluent.Kafka.TopicPartition(topic, 1) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long committed;
        do
        {
            committed = group.Committed(partitions, TimeSpan.FromSeconds(10)).Where(p => p.Offset.Value > 0).Sum(p => p.Offset.Value);
            await Task.Delay(100);
        }
        while (committed < records.Count && DateTime.UtcNow < deadline);

        Assert.Equal(records.Count, committed);
        Assert.Equal(records.Count, await SinkFixture.CountAsync(second, "SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Poison_records_go_to_the_dlq_with_their_source_while_the_other_records_land()
    {
        var topic = fixture.NewTopic(partitions: 1);
        var records = new List<(string?, byte[])>();
        for (var i = 0; i < 60; i++)
        {
            records.Add((null, SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("evt_ok_" + i), fixture.EventSchemaId)));
            if (i % 20 == 5)
            {
                records.Add((null, i switch
                {
                    5 => [0xDE, 0xAD, 0xBE, 0xEF],
                    25 => [0, 0x7F, 0xFF, 0xFF, 0xF0, 1, 2, 3],
                    _ => Encoding.UTF8.GetBytes("""{"event_id":"no_payload","timestamp":"2024-01-15T10:30:00Z","event_type":"iot.sensor"}"""),
                }));
            }
        }

        await fixture.ProduceAsync(topic, records);
        await using var sink = await fixture.StartSinkAsync(Database, topic);
        await SinkFixture.WaitForCountAsync(sink, $"SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = '{topic}'", records.Count);

        Assert.Equal(60, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events"));
        var dead = await fixture.DeadLettersAsync(topic);
        Assert.Equal(3, dead.Count);
        Assert.Equal([6L, 27L, 48L], dead.Select(d => d.SourceOffset).Order());
        Assert.Equal([TransformErrorTypes.InvalidEvent, TransformErrorTypes.Undecodable, TransformErrorTypes.UnknownSchema], dead.Select(d => d.ErrorType).Order());
        Assert.All(dead, d => Assert.Equal(records[(int)d.SourceOffset].Item2, d.OriginalMessage));
        Assert.All(dead, d => Assert.Equal(0, d.SourcePartition));
    }

    [Fact]
    public async Task A_late_update_of_an_aggregate_replaces_the_earlier_result_of_the_same_window_only()
    {
        var topic = "events.aggregated";
        static string Aggregate(long count, string kind, bool update) =>
            $$"""{"window_start":1705312800000,"window_end":1705313100000,"event_type":"iot.sensor","count":{{count}},"sum_value":1.0,"avg_value":1.0,"min_value":1.0,"max_value":1.0,"distinct_users":1,"window_kind":"{{kind}}","window_size_ms":300000,"window_slide_ms":300000,"window_key":null,"is_update":{{(update ? "true" : "false")}},"processed_time":1705313101000}""";
        await fixture.ProduceAsync(topic,
        [
            ("k", SinkTestRecords.EncodeAggregate(Aggregate(3, "tumbling", false), fixture.AggregateSchemaId)),
            ("k", SinkTestRecords.EncodeAggregate(Aggregate(4, "sliding", false), fixture.AggregateSchemaId)),
            ("k", SinkTestRecords.EncodeAggregate(Aggregate(5, "tumbling", true), fixture.AggregateSchemaId)),
        ]);

        await using var sink = await fixture.StartSinkAsync(Database, topic);
        await SinkFixture.WaitForCountAsync(sink, "SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = 'events.aggregated'", 3);

        Assert.Equal(2, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM aggregated_events"));
        Assert.Equal(5, await SinkFixture.CountAsync(sink, "SELECT count FROM aggregated_events WHERE window_kind = 'tumbling' AND is_update"));
        Assert.Equal(4, await SinkFixture.CountAsync(sink, "SELECT count FROM aggregated_events WHERE window_kind = 'sliding'"));
    }

    [Fact]
    public async Task A_warehouse_outage_longer_than_the_retries_pauses_and_resumes_without_sending_good_records_to_the_dlq()
    {
        var topic = fixture.NewTopic(partitions: 2);
        var records = Enumerable.Range(0, 300).Select(i => ((string?)("device_" + i), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("evt_outage_" + i), fixture.EventSchemaId))).ToList();
        await fixture.ProduceAsync(topic, records);
        var failuresLeft = 12;
        SinkFixture.Flaky? flaky = null;

        await using var sink = await fixture.StartSinkAsync(Database, topic, configure: services => services.AddSingleton<IWarehouseDestination>(sp =>
            flaky = new SinkFixture.Flaky(new DuckDbDestination(Database), rows =>
                rows.Count > 0 && Interlocked.Decrement(ref failuresLeft) >= 0 ? new DestinationException(DestinationErrorKind.Unavailable, "injected: the warehouse is away") : null)));
        await SinkFixture.WaitForCountAsync(sink, $"SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = '{topic}'", records.Count);

        Assert.True(flaky!.Failures >= 12);
        Assert.Equal(300, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events"));
        Assert.Empty(await fixture.DeadLettersAsync(topic));
    }

    [Fact]
    public async Task Rows_the_warehouse_refuses_after_five_attempts_go_to_the_dlq_and_the_rest_of_the_batch_lands()
    {
        var topic = fixture.NewTopic(partitions: 1);
        var records = Enumerable.Range(0, 50).Select(i => ((string?)null, SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson(i == 17 ? "evt_refused" : "evt_fine_" + i), fixture.EventSchemaId))).ToList();
        await fixture.ProduceAsync(topic, records);
        SinkFixture.Flaky? flaky = null;

        await using var sink = await fixture.StartSinkAsync(Database, topic, configure: services => services.AddSingleton<IWarehouseDestination>(sp =>
            flaky = new SinkFixture.Flaky(new DuckDbDestination(Database), rows =>
                rows.Any(r => r is EventRow { EventId: "evt_refused" }) ? new DestinationException(DestinationErrorKind.RowsRejected, "injected: constraint violation") : null)));
        await SinkFixture.WaitForCountAsync(sink, $"SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = '{topic}'", records.Count);

        Assert.Equal(49, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events"));
        var dead = Assert.Single(await fixture.DeadLettersAsync(topic));
        Assert.Equal(17, dead.SourceOffset);
        Assert.Equal("SINK_WRITE_REJECTED", dead.ErrorType);
        Assert.Equal(5, dead.RetryCount);
        Assert.True(flaky!.Failures >= 5);
    }

    private async Task SeedForeignOffsetsAsync(string topic)
    {
        await using (var destination = new DuckDbDestination(Database))
        {
            await destination.EnsureTablesAsync(CancellationToken.None);
            await destination.WriteAsync("other-cluster", [], [new StoredOffset(topic, 0, 1000), new StoredOffset(topic, 1, 1000)], CancellationToken.None);
        }

        // Released before the sink opens the file.
        using var check = new DuckDBConnection("Data Source=" + Database);
        check.Open();
    }
}
