using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// The <c>processor</c> command against the <c>broker</c> command and a <c>registry</c>, each in its
/// own process: results read back with Confluent's AvroDeserializer equal a plain reference
/// computation, invalid records are in events.dlq with their coordinates, and a processor killed with
/// SIGKILL three times mid-stream ends with, per window key, a clean run's result byte for byte (issue 10, item 3).
/// </summary>
public sealed class ProcessorCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DataEvents = 30_000;
    private ProcessorTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await ProcessorTestBed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_processor_killed_three_times_mid_stream_ends_with_a_clean_runs_results_byte_for_byte()
    {
        // 1. The input, then one marker per partition an hour and more later, which closes every window.
        await _bed.PublishAsync(DataEvents);
        await _bed.PublishMarkersAsync();
        var reference = ProcessorTestBed.Reference(_bed.Events);
        output.WriteLine($"{_bed.Events.Count} events, {_bed.Invalid.Count} invalid records, {reference.Count} windows in the reference");

        // 2. A clean run: its results must equal the reference.
        var cleanStart = await _bed.EndsAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("processor-crash-").FullName;
        try
        {
            var clean = await _bed.StartProcessorAsync("processor-clean", "clean", Path.Combine(dataDirectory, "clean"));
            var cleanResults = await _bed.WaitForResultsAsync(cleanStart, reference.Count, TimeSpan.FromSeconds(60));
            output.WriteLine($"clean run: {cleanResults.Values.Count(v => v.Figures.Contains(";True;", StringComparison.Ordinal))} of {cleanResults.Count} last results are late updates");
            await _bed.KillAsync(clean);
            ProcessorTestBed.AssertMatchesReference(reference, cleanResults);
            var cleanDead = await _bed.DeadLettersAsync(cleanStart);
            Assert.Equal(_bed.Invalid.Order(), cleanDead.Order());

            // 3. The same input read by another job, killed with SIGKILL three times mid-stream.
            var crashStart = await _bed.EndsAsync();
            var killedLocal = 0;
            for (var kill = 1; kill <= 3; kill++)
            {
                var doomed = await _bed.StartProcessorAsync($"processor-crash-{kill}", "crashing", Path.Combine(dataDirectory, "crashing"));
                var (consumed, checkpoints) = await _bed.WaitForProgressAsync(doomed, checkpoints: 1, records: ProcessorTestBed.KillAfterRecords);
                await _bed.KillAsync(doomed);
                // Alone, an instance soon skips the repartition hop: its records applied in memory are in no topic.
                var local = ProcessorTestBed.WentLocal(doomed);
                killedLocal += local ? 1 : 0;
                output.WriteLine($"kill {kill}: SIGKILL after {consumed} records read and {checkpoints} checkpoints in that run, {(local ? "past" : "before")} skipping the hop");
                Assert.True(consumed < _bed.Events.Count + _bed.Invalid.Count, "the kill came after the input was read through: not mid-stream");
            }

            Assert.True(killedLocal > 0, "no run was killed while skipping the repartition hop");
            await _bed.StartProcessorAsync("processor-crash-final", "crashing", Path.Combine(dataDirectory, "crashing"));
            var crashResults = await _bed.WaitForResultsAsync(crashStart, reference.Count, TimeSpan.FromSeconds(90), cleanResults);
            // Every field, processed_time included: the value bytes of the last copy per key.
            ProcessorTestBed.AssertSameBytes(cleanResults, crashResults, "after crashes");

            // Every invalid record reached the DLQ at least once (a replay may write an identical copy).
            Assert.Subset((await _bed.DeadLettersAsync(crashStart)).ToHashSet(), _bed.Invalid.ToHashSet());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
