using System.Globalization;
using EventPlatform.Core.Topics;
using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Issue 11, item 10: the processor's results in the warehouse. A <c>processor</c> killed with SIGKILL
/// twice mid-stream and restarted, a <c>sink</c> reading events.aggregated meanwhile, each in its own
/// process: in the end <c>aggregated_events</c> holds one row per window, equal field for field to the
/// last result under that window's key in events.aggregated, which equals the brute-force reference.
/// </summary>
public sealed class AggregatesToWarehouseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DataEvents = 30_000;
    private const string Connector = "aggregates-to-warehouse";

    private readonly string _directory = Directory.CreateTempSubdirectory("aggregates-to-warehouse-").FullName;
    private ProcessorTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await ProcessorTestBed.StartAsync();

    public async Task DisposeAsync()
    {
        await _bed.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_aggregated_table_equals_the_processors_last_result_per_window_after_processor_crashes()
    {
        await _bed.PublishAsync(DataEvents);
        await _bed.PublishMarkersAsync();
        var reference = ProcessorTestBed.Reference(_bed.Events);
        output.WriteLine($"{_bed.Events.Count} events, {reference.Count} windows in the reference");

        var (sinkProcess, sinkUrl) = await PlatformProcesses.StartSinkAsync("sink", _bed.Bootstrap, new Uri(_bed.RegistryUrl), Path.Combine(_directory, "warehouse.duckdb"), Connector,
            $"--Sink:Connector:topics={TopicPlan.Aggregated}", "--Sink:Connector:buffer.flush.time=0.2", "--Logging:LogLevel:Default=Warning");
        await using var sink = sinkProcess;

        var start = await _bed.EndsAsync();
        var processorData = Path.Combine(_directory, "processor");
        for (var kill = 1; kill <= 2; kill++)
        {
            var doomed = await _bed.StartProcessorAsync($"processor-{kill}", "to-warehouse", processorData);
            var (consumed, checkpoints) = await _bed.WaitForProgressAsync(doomed, checkpoints: 1, records: ProcessorTestBed.KillAfterRecords);
            await _bed.KillAsync(doomed);
            output.WriteLine($"kill {kill}: SIGKILL after {consumed} records read and {checkpoints} checkpoints in that run");
            Assert.True(consumed < _bed.Events.Count + _bed.Invalid.Count, "the kill came after the input was read through: not mid-stream");
        }

        var final = await _bed.StartProcessorAsync("processor-final", "to-warehouse", processorData);
        var results = await WaitForReferenceAsync(start, reference);
        // Nothing more is written once it has stopped: what is in the topic now is what the table must hold.
        await _bed.StopAsync(final);
        results = await _bed.WaitForResultsAsync(start, reference.Count, TimeSpan.FromSeconds(30));
        ProcessorTestBed.AssertMatchesReference(reference, results);
        var expected = results.Values.Select(v => v.Figures).ToDictionary(f => f[..f.IndexOf(';', StringComparison.Ordinal)]);

        // The sink catches up in its own time: wait until the table holds the topic's last results, then compare every field.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Dictionary<string, string> table;
        while (true)
        {
            table = await TableAsync(sinkUrl);
            if ((table.Count == expected.Count && expected.All(e => table.TryGetValue(e.Key, out var row) && row == e.Value)) || DateTime.UtcNow > deadline)
            {
                break;
            }

            Assert.False(sink.HasExited, sink.Output);
            await Task.Delay(200);
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), table.Keys.Order(StringComparer.Ordinal));
        var differing = expected.Where(e => table[e.Key] != e.Value).Select(e => $"topic {e.Value}\ntable {table[e.Key]}").ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} rows differ:\n" + string.Join("\n", differing.Take(10)));
        Assert.Equal(reference.Count, await SinkClient.ScalarAsync(sinkUrl, "SELECT count(*) FROM aggregated_events"));
    }

    /// <summary>Reads events.aggregated until its last result per window matches the reference (the final processor may still be replaying).</summary>
    private async Task<Dictionary<string, WindowResultCopy>> WaitForReferenceAsync(Dictionary<int, long> start,
        Dictionary<string, (long Count, double? Sum, double? Avg, double? Min, double? Max, long Users)> reference)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var results = await _bed.WaitForResultsAsync(start, reference.Count, TimeSpan.FromSeconds(90));
            try
            {
                ProcessorTestBed.AssertMatchesReference(reference, results);
                return results;
            }
            catch (Xunit.Sdk.XunitException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Every row of aggregated_events in the test bed's figures format (window identity first), read through POST /query.</summary>
    private static async Task<Dictionary<string, string>> TableAsync(Uri sink)
    {
        var rows = await SinkClient.QueryAsync(sink, """
            SELECT concat(event_type, '|', window_kind, '|', window_size_ms, '|', epoch_ms(window_start), '|', window_key),
                count, sum_value, avg_value, min_value, max_value, distinct_users, epoch_ms(window_end), is_update, epoch_ms(processed_time)
            FROM aggregated_events
            """);
        static string D(System.Text.Json.Nodes.JsonNode? v) => v is null ? "" : ((double)v).ToString("R", CultureInfo.InvariantCulture);
        static string L(System.Text.Json.Nodes.JsonNode? v) => ((long)v!).ToString(CultureInfo.InvariantCulture);
        var table = new Dictionary<string, string>();
        foreach (var r in rows)
        {
            var id = (string)r[0]!;
            Assert.True(table.TryAdd(id, string.Join(';', id, L(r[1]), D(r[2]), D(r[3]), D(r[4]), D(r[5]), L(r[6]), L(r[7]), (bool)r[8]! ? "True" : "False", L(r[9]))),
                $"two rows for window {id}");
        }

        return table;
    }
}
