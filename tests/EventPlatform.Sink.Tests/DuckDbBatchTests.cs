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
}
