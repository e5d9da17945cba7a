using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using EventPlatform.Hosting.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Hosting.Tests;

/// <summary>
/// The exporter finds the series a measurement belongs to by the references of its tags when they
/// are the last series' (the per-record fast path), else by value: either way every measurement lands
/// in its own series, whatever the order, the string instances, the value types or the threads.
/// </summary>
public sealed class PrometheusMeterExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MetricsRegistry _registry = new();
    private readonly PrometheusMeterExporter _exporter;
    private readonly Meter _meter;

    public PrometheusMeterExporterTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _exporter = new PrometheusMeterExporter(_registry, meters, NullLogger<PrometheusMeterExporter>.Instance);
        _meter = meters.Create(PrometheusMeterExporter.MeterPrefix + "Tests");
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Every_measurement_counts_in_its_own_series_whichever_instances_carry_its_tags()
    {
        var counter = _meter.CreateCounter<long>("exporter_test_records_total");
        var a = new KeyValuePair<string, object?>("topic", "a");
        var b = new KeyValuePair<string, object?>("topic", "b");
        for (var i = 0; i < 10; i++)
        {
            counter.Add(1, a);
        }
        counter.Add(1, b);
        counter.Add(1, a);
        // Equal values in other string instances (as a client makes per record), then the first instances again.
        counter.Add(5, new KeyValuePair<string, object?>("topic", new string(['b'])));
        counter.Add(7, new KeyValuePair<string, object?>("topic", new string(['a'])));
        counter.Add(1, b);

        var byPartition = _meter.CreateCounter<long>("exporter_test_partition_records_total");
        byPartition.Add(1, new KeyValuePair<string, object?>("partition", 1));
        byPartition.Add(1, new KeyValuePair<string, object?>("partition", 1));
        byPartition.Add(3, new KeyValuePair<string, object?>("partition", 2));

        var text = await ScrapeAsync();
        Assert.Equal(18, Value(text, "exporter_test_records_total{topic=\"a\"}"));
        Assert.Equal(7, Value(text, "exporter_test_records_total{topic=\"b\"}"));
        Assert.Equal(2, Value(text, "exporter_test_partition_records_total{partition=\"1\"}"));
        Assert.Equal(3, Value(text, "exporter_test_partition_records_total{partition=\"2\"}"));
    }

    [Fact]
    public async Task Series_alternating_across_threads_keep_exact_counts()
    {
        var counter = _meter.CreateCounter<long>("exporter_test_parallel_total");
        var tags = new[] { new KeyValuePair<string, object?>("topic", "x"), new KeyValuePair<string, object?>("topic", "y"), new KeyValuePair<string, object?>("topic", "z") };
        Parallel.For(0, 30_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => counter.Add(1, tags[i % 3]));

        var text = await ScrapeAsync();
        foreach (var topic in new[] { "x", "y", "z" })
        {
            Assert.Equal(10_000, Value(text, $"exporter_test_parallel_total{{topic=\"{topic}\"}}"));
        }
    }

    private async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await _registry.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static double Value(string text, string series)
    {
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no series {series} in:\n{text}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
