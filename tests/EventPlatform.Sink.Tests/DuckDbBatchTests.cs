using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// The DuckDB destination's batch path (Appender into staging, one upsert per table) leaves what
/// row-by-row upserts would: the last row of a key within a batch wins, and a replayed batch changes nothing.
/// </summary>
public sealed class DuckDbBatchTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("duckdb-batch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_last_row_of_a_key_in_a_batch_wins_and_a_replay_leaves_the_same_rows()
    {
        var time = new DateTime(2024, 1, 15, 10, 0, 0, DateTimeKind.Utc);
        EventRow Event(string id, string payload, long offset) => new()
        {
            Source = new RecordPosition("t", 0, offset), OriginalMessage = [], SizeBytes = 1, EventId = id, Timestamp = time, EventType = "iot.sensor",
            UserId = null, DeviceId = "d", Payload = payload, Metadata = null, IngestionTime = time,
        };
        AggregatedEventRow Aggregate(long count, long offset) => new()
        {
            Source = new RecordPosition("t", 0, offset), OriginalMessage = [], SizeBytes = 1, WindowStart = time, WindowEnd = time.AddMinutes(1),
            EventType = "iot.sensor", Count = count, DistinctUsers = 1, WindowKind = "tumbling", WindowSizeMs = 60_000, WindowSlideMs = 60_000,
            WindowKey = "", IsUpdate = count > 1, ProcessedTime = time,
        };
        WarehouseRow[] batch =
        [
            Event("a", """{"v":1}""", 0), Event("b", """{"v":1}""", 1), Aggregate(1, 2), Event("a", """{"v":2}""", 3),
            Aggregate(2, 4), Event("c", """{"v":1}""", 5), Event("a", """{"v":3}""", 6),
        ];

        await using var destination = new DuckDbDestination(Path.Combine(_directory, "w.duckdb"));
        await destination.EnsureTablesAsync(CancellationToken.None);
        for (var replay = 0; replay < 2; replay++)
        {
            await destination.WriteAsync("c1", batch, [new StoredOffset("t", 0, 7)], CancellationToken.None);
            var events = await destination.QueryAsync("SELECT event_id, payload::VARCHAR FROM events ORDER BY event_id", CancellationToken.None);
            Assert.Equal(["a {\"v\":3}", "b {\"v\":1}", "c {\"v\":1}"], events.Select(r => $"{r[0]} {r[1]}"));
            var aggregates = await destination.QueryAsync("SELECT count, is_update FROM aggregated_events", CancellationToken.None);
            Assert.Equal([2L, true], Assert.Single(aggregates));
        }
    }

    [Fact]
    public async Task Events_batches_that_meet_rows_already_written_end_as_upserts_with_their_offsets()
    {
        await using var destination = new DuckDbDestination(Path.Combine(_directory, "w.duckdb"));
        await destination.EnsureTablesAsync(CancellationToken.None);
        await destination.WriteAsync("c1", [Event("a", 1, 0), Event("b", 1, 1), Event("a", 2, 2)], [new StoredOffset("t", 0, 3)], CancellationToken.None);
        // b and a again (a replay), c and d new: the whole batch lands as the upsert leaves it, once.
        await destination.WriteAsync("c1", [Event("b", 2, 3), Event("c", 1, 4), Event("a", 3, 5), Event("d", 1, 6), Event("c", 2, 7)],
            [new StoredOffset("t", 0, 8)], CancellationToken.None);
        // Fresh keys right after the conflict (the staged path for a while) and many later (the append again).
        for (var batch = 0; batch < 20; batch++)
        {
            await destination.WriteAsync("c1", [Event($"n{batch}", 1, 8 + (2 * batch)), Event($"n{batch}", 2, 9 + (2 * batch))],
                [new StoredOffset("t", 0, 10 + (2 * batch))], CancellationToken.None);
        }

        var events = await destination.QueryAsync("SELECT event_id, payload::VARCHAR FROM events WHERE event_id NOT LIKE 'n%' ORDER BY event_id", CancellationToken.None);
        Assert.Equal(["a {\"v\":3}", "b {\"v\":2}", "c {\"v\":2}", "d {\"v\":1}"], events.Select(r => $"{r[0]} {r[1]}"));
        var fresh = await destination.QueryAsync("SELECT count(*), count(DISTINCT event_id), min(payload::VARCHAR), max(payload::VARCHAR) FROM events WHERE event_id LIKE 'n%'", CancellationToken.None);
        Assert.Equal([20L, 20L, "{\"v\":2}", "{\"v\":2}"], fresh.Single());
        var offsets = await destination.ReadOffsetsAsync("c1", CancellationToken.None);
        Assert.Equal(48, Assert.Single(offsets.Offsets).NextOffset);
    }

    [Fact]
    public async Task A_refused_batch_is_rolled_back_whole_and_the_next_batches_still_land()
    {
        await using var destination = new DuckDbDestination(Path.Combine(_directory, "w.duckdb"));
        await destination.EnsureTablesAsync(CancellationToken.None);
        // event_id is the primary key: a null one is refused, on the append and on the upsert alike.
        var refused = await Assert.ThrowsAsync<DestinationException>(() => destination.WriteAsync(
            "c1", [Event("a", 1, 0), Event(null!, 1, 1)], [new StoredOffset("t", 0, 2)], CancellationToken.None));
        Assert.Equal(DestinationErrorKind.RowsRejected, refused.Kind);
        Assert.Empty(await destination.QueryAsync("SELECT * FROM events", CancellationToken.None));
        Assert.Empty((await destination.ReadOffsetsAsync("c1", CancellationToken.None)).Offsets);

        // The staging tables outlive the rolled-back transactions.
        await destination.WriteAsync("c1", [Event("a", 1, 0), Event("b", 1, 1)], [new StoredOffset("t", 0, 2)], CancellationToken.None);
        await destination.WriteAsync("c1", [Event("a", 2, 2), Event("b", 2, 3)], [new StoredOffset("t", 0, 4)], CancellationToken.None);
        var events = await destination.QueryAsync("SELECT event_id, payload::VARCHAR FROM events ORDER BY event_id", CancellationToken.None);
        Assert.Equal(["a {\"v\":2}", "b {\"v\":2}"], events.Select(r => $"{r[0]} {r[1]}"));
        Assert.Equal(4, Assert.Single((await destination.ReadOffsetsAsync("c1", CancellationToken.None)).Offsets).NextOffset);
    }

    private static EventRow Event(string id, int version, long offset) => new()
    {
        Source = new RecordPosition("t", 0, offset), OriginalMessage = [], SizeBytes = 1, EventId = id, Timestamp = Time, EventType = "iot.sensor",
        UserId = null, DeviceId = "d", Payload = $$"""{"v":{{version}}}""", Metadata = null, IngestionTime = Time,
    };

    private static readonly DateTime Time = new(2024, 1, 15, 10, 0, 0, DateTimeKind.Utc);
}
