using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EventPlatform.Streaming.Runtime;

namespace EventPlatform.Streaming.Tests;

/// <summary>Listens in-process to the runners' meter and keeps the measurements of one job.</summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _job;
    private readonly ConcurrentQueue<Measured> _measured = new();

    public MetricCapture(string jobName)
    {
        _job = jobName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KafkaJobRunner.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public sealed record Measured(string Name, double Value, IReadOnlyDictionary<string, string> Tags);

    /// <summary>Reads the observable gauges now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public IReadOnlyList<Measured> All(string name) => [.. _measured.Where(m => m.Name == name)];

    /// <summary>The sum of a counter's measurements whose tags include <paramref name="tags"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] tags) =>
        All(name).Where(m => tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);

    public double? Last(string name) => All(name) is { Count: > 0 } all ? all[^1].Value : null;

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            byName[tag.Key] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
        }
        if (byName.TryGetValue("job_name", out var job) && job == _job)
        {
            _measured.Enqueue(new Measured(instrument.Name, value, byName));
        }
    }
}
