using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;

// Writes the same events rows through DuckDbDestination.WriteAsync (batches of buffer.count.records,
// each with its offset, as a sink task does) and through DuckDB's Appender into a plain table, alternating, several runs;
// rows per second of wall time and per second of this process's CPU time. Then the same rows once more into the
// sink's file, as a replay after a crash does (every key already there: the staged upsert).
//   dotnet run -c Release --project bench/EventPlatform.SinkWriteBenchmark -- [rows=200000] [batch=10000] [runs=5]
var rowCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var batchSize = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;

var rows = MakeRows(rowCount);
var directory = Directory.CreateTempSubdirectory("sink-write-bench-").FullName;
var sinkRates = new List<double>();
var appenderRates = new List<double>();
var sinkCpuRates = new List<double>();
var appenderCpuRates = new List<double>();
var replayRates = new List<double>();
var replayCpuRates = new List<double>();
try
{
    for (var run = 0; run <= runs; run++)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sink = await MeasureSinkAsync(Path.Combine(directory, $"sink-{run}.duckdb"), rows, batchSize);
        var sinkCpu = rows.Count / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var replay = await MeasureSinkAsync(Path.Combine(directory, $"sink-{run}.duckdb"), rows, batchSize);
        var replayCpu = rows.Count / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var appender = MeasureAppender(Path.Combine(directory, $"appender-{run}.duckdb"), rows);
        var appenderCpu = rows.Count / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        // Run 0 warms up the JIT and the native library.
        if (run > 0)
        {
            sinkRates.Add(sink);
            appenderRates.Add(appender);
            sinkCpuRates.Add(sinkCpu);
            appenderCpuRates.Add(appenderCpu);
            replayRates.Add(replay);
            replayCpuRates.Add(replayCpu);
        }

        Console.WriteLine($"run {run}{(run == 0 ? " (warm-up)" : "")}: sink {sink:N0} rows/s ({sinkCpu:N0} per CPU-second), appender {appender:N0} rows/s ({appenderCpu:N0} per CPU-second), sink replay {replay:N0} rows/s ({replayCpu:N0} per CPU-second)");
    }
}
finally
{
    Directory.Delete(directory, recursive: true);
}

Console.WriteLine($"{rowCount:N0} rows, batches of {batchSize:N0}, {runs} runs");
Console.WriteLine($"sink WriteAsync: {Summary(sinkRates)}");
Console.WriteLine($"DuckDB Appender: {Summary(appenderRates)}");
Console.WriteLine($"ratio (medians): {Median(sinkRates) / Median(appenderRates):P0}");
// On a shared machine wall time measures the neighbours too; CPU time (every thread of this process) does not.
Console.WriteLine($"per CPU-second: sink {Summary(sinkCpuRates)}, Appender {Summary(appenderCpuRates)}, ratio {Median(sinkCpuRates) / Median(appenderCpuRates):P0}");
Console.WriteLine($"sink replay (every key already written): {Summary(replayRates)}; per CPU-second {Summary(replayCpuRates)}, {Median(replayCpuRates) / Median(appenderCpuRates):P0} of the Appender's");

static string Summary(List<double> rates) =>
    $"median {Median(rates):N0} rows/s (min {rates.Min():N0}, max {rates.Max():N0})";

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static async Task<double> MeasureSinkAsync(string path, List<EventRow> rows, int batchSize)
{
    await using var destination = new DuckDbDestination(path);
    await destination.EnsureTablesAsync(CancellationToken.None);
    var clock = Stopwatch.StartNew();
    for (var start = 0; start < rows.Count; start += batchSize)
    {
        var batch = rows.GetRange(start, Math.Min(batchSize, rows.Count - start));
        var offset = new StoredOffset("events.bench", 0, start + batch.Count);
        await destination.WriteAsync("bench-cluster", batch, [offset], CancellationToken.None);
    }

    return rows.Count / clock.Elapsed.TotalSeconds;
}

static double MeasureAppender(string path, List<EventRow> rows)
{
    using var connection = new DuckDBConnection("Data Source=" + path);
    connection.Open();
    using (var command = connection.CreateCommand())
    {
        command.CommandText = """
            CREATE TABLE events (event_id VARCHAR(255) PRIMARY KEY, "timestamp" TIMESTAMP, event_type VARCHAR(100),
                user_id VARCHAR(255), device_id VARCHAR(255), payload JSON, metadata JSON, ingestion_time TIMESTAMP)
            """;
        command.ExecuteNonQuery();
    }

    var clock = Stopwatch.StartNew();
    using (var appender = connection.CreateAppender("events"))
    {
        foreach (var row in rows)
        {
            appender.CreateRow().AppendValue(row.EventId).AppendValue(row.Timestamp).AppendValue(row.EventType).AppendValue(row.UserId)
                .AppendValue(row.DeviceId).AppendValue(row.Payload).AppendValue(row.Metadata).AppendValue(row.IngestionTime).EndRow();
        }
    }

    return rows.Count / clock.Elapsed.TotalSeconds;
}

static List<EventRow> MakeRows(int count)
{
    var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    var rows = new List<EventRow>(count);
    for (var i = 0; i < count; i++)
    {
        var payload = string.Create(CultureInfo.InvariantCulture,
            $$"""{"temperature":{{20 + (i % 150) / 10.0}},"humidity":{{40 + (i % 37)}},"unit":"celsius","location":{"site":"plant-{{i % 7}}","floor":{{i % 4}}},"tags":["sensor","iot"]}""");
        rows.Add(new EventRow
        {
            Source = new RecordPosition("events.bench", 0, i),
            OriginalMessage = [],
            SizeBytes = payload.Length,
            EventId = "evt_bench_" + i.ToString(CultureInfo.InvariantCulture),
            Timestamp = start.AddMilliseconds(i),
            EventType = "sensor.reading",
            UserId = "user_" + (i % 1000).ToString(CultureInfo.InvariantCulture),
            DeviceId = "device_" + (i % 101).ToString(CultureInfo.InvariantCulture),
            Payload = payload,
            Metadata = """{"source":"bench","version":"1.0"}""",
            IngestionTime = start.AddSeconds(1),
        });
    }

    return rows;
}
