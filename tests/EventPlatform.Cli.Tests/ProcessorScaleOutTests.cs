using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Several <c>processor</c> children in one consumer group (the default job scales out by default),
/// against the <c>broker</c> and <c>registry</c> commands: 1, 2 and 3 instances write the same bytes per
/// window key, equal to the reference; instances added, stopped and SIGKILLed mid-stream still give
/// every window exactly, every copy equal (issue 10, item 4). Per-type windows and per-user sessions
/// both cross the repartition topic. Two tests, because rebalances on the embedded broker take 5-9 s.
/// </summary>
public sealed class ProcessorScaleOutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ProcessorTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await ProcessorTestBed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task One_two_and_three_instances_write_the_same_bytes_per_window_once_each_equal_to_the_reference()
    {
        await _bed.PublishAsync(12_000);
        await _bed.PublishMarkersAsync();
        var reference = ProcessorTestBed.Reference(_bed.Events);
        var dataDirectory = Directory.CreateTempSubdirectory("processor-scale-").FullName;
        try
        {
            Dictionary<string, WindowResultCopy>? first = null;
            foreach (var instances in new[] { 1, 2, 3 })
            {
                var from = await _bed.EndsAsync();
                var job = $"scale-{instances}";
                var started = DateTime.UtcNow;
                var processes = await Task.WhenAll(Enumerable.Range(1, instances)
                    .Select(i => _bed.StartProcessorAsync($"processor-{job}-{i}", job, Path.Combine(dataDirectory, job))));
                var results = await _bed.WaitForResultsAsync(from, reference.Count, TimeSpan.FromSeconds(60), first);
                var consumed = await Task.WhenAll(processes.Select(_bed.ConsumedAsync));
                output.WriteLine($"{instances} instance(s): {results.Count} windows in {(DateTime.UtcNow - started).TotalSeconds:F1} s, records read per instance: {string.Join(", ", consumed)}");
                if (results.Count < reference.Count)
                {
                    // Short: what each instance logged (rebalances, going local, drains) says where it stalled.
                    foreach (var process in processes)
                    {
                        output.WriteLine($"--- {process.Name}, the last 300 lines:\n{string.Join('\n', process.Output.Split('\n').TakeLast(300))}");
                        output.WriteLine(string.Join('\n', (await _bed.MetricsAsync(process)).Split('\n').Where(l => l.StartsWith("processor_", StringComparison.Ordinal) || l.StartsWith("stream_job_", StringComparison.Ordinal))));
                    }
                }

                foreach (var process in processes)
                {
                    await _bed.KillAsync(process);
                }

                ProcessorTestBed.AssertMatchesReference(reference, results);
                if (first is null)
                {
                    first = results;
                }
                else
                {
                    ProcessorTestBed.AssertSameBytes(first, results, $"with {instances} instances");
                }

                // No rebalance made anyone write a window twice (read to the end, every copy counted). Whether every
                // instance got records depends on how fast the group settles: members that join a moment after the
                // first may find the input already done (seen once in a full run: 0, 12054, 0), so the per-instance
                // counts are printed, not asserted; what is asserted is that results are exact whoever read what.
                Assert.Equal(instances, consumed.Length);
                var copies = await _bed.AllCopiesAsync(from);
                Assert.Equal(reference.Count, copies.Count);
                Assert.Empty(copies.Where(c => c.Value.Count != 1).Select(c => $"{c.Key}: {c.Value.Count} copies"));
                Assert.Equal(_bed.Invalid.Order(), (await _bed.DeadLettersAsync(from)).Order());
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Instances_added_stopped_and_killed_mid_stream_give_every_window_exactly_with_every_copy_equal()
    {
        var dataDirectory = Path.Combine(Directory.CreateTempSubdirectory("processor-churn-").FullName, "churn");
        var from = await _bed.EndsAsync();
        try
        {
            // A alone, then B joins while the input still arrives, then C joins, B is killed and A is stopped.
            await _bed.PublishAsync(6_000);
            var a = await _bed.StartProcessorAsync("processor-churn-a", "churn", dataDirectory);
            await _bed.WaitForProgressAsync(a);
            var b = await _bed.StartProcessorAsync("processor-churn-b", "churn", dataDirectory);
            await _bed.PublishAsync(6_000);
            await _bed.PublishUntilProgressAsync(b);
            var c = await _bed.StartProcessorAsync("processor-churn-c", "churn", dataDirectory);
            await _bed.PublishAsync(6_000);
            await _bed.PublishUntilProgressAsync(c, checkpoints: 1);
            output.WriteLine($"read before the kill: a {await _bed.ConsumedAsync(a)}, b {await _bed.ConsumedAsync(b)}, c {await _bed.ConsumedAsync(c)}");
            await _bed.KillAsync(b);
            await _bed.PublishAsync(6_000);
            await _bed.StopAsync(a);
            await _bed.PublishMarkersAsync();

            var reference = ProcessorTestBed.Reference(_bed.Events);
            var results = await _bed.WaitForResultsAsync(from, reference.Count, TimeSpan.FromSeconds(60));
            ProcessorTestBed.AssertMatchesReference(reference, results);

            // A kill replays what its last checkpoint did not cover: copies may repeat, but each equals the last, byte for byte.
            var copies = await _bed.AllCopiesAsync(from);
            Assert.Equal(reference.Count, copies.Count);
            var differing = copies.Where(k => k.Value.Any(copy => !copy.AsSpan().SequenceEqual(results[k.Key].Value))).Select(k => k.Key).ToList();
            Assert.True(differing.Count == 0, "copies differ from the last result: " + string.Join(", ", differing.Take(20)));
            output.WriteLine($"{reference.Count} windows, {copies.Sum(k => k.Value.Count)} copies ({copies.Count(k => k.Value.Count > 1)} keys written more than once)");
            Assert.Subset((await _bed.DeadLettersAsync(from)).ToHashSet(), _bed.Invalid.ToHashSet());
            Assert.Subset(_bed.Invalid.ToHashSet(), (await _bed.DeadLettersAsync(from)).ToHashSet());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dataDirectory)!, recursive: true);
        }
    }
}
