using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// Exports the platform's own <see cref="System.Diagnostics.Metrics"/> instruments to the
/// service's Prometheus registry under their own names: the libraries measure with
/// <see cref="Meter"/>s (no Prometheus dependency), the host decides how they are shipped.
/// </summary>
/// <remarks>
/// <para>
/// Exported: instruments of meters named <c>EventPlatform.*</c> made through this host's
/// <see cref="IMeterFactory"/> (so that two hosts in one process do not count each other's
/// events). The instrument name is the Prometheus name as it is (<c>events_published_total</c>),
/// and the measurement's tags are the labels, in the order the first measurement gave them; an
/// instrument must always report the same tag names in the same order (ours do).
/// </para>
/// <para>
/// Why not prometheus-net's own <c>MeterAdapter</c>: it prefixes names with the meter's name,
/// exports counters as gauges, forgets series idle for 5 minutes, and takes a reader lock per
/// measurement. Here a counter is a Prometheus counter and a measurement costs a lock-free
/// dictionary read plus an interlocked update. Mapping: <see cref="Counter{T}"/> → counter,
/// <see cref="Histogram{T}"/> → histogram (buckets from the instrument's advice),
/// <see cref="UpDownCounter{T}"/> and observable gauges → gauge, <see cref="ObservableCounter{T}"/>
/// → counter. Observable instruments are read at each scrape. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class PrometheusMeterExporter : IDisposable
{
    /// <summary>Meters whose name starts with this are exported.</summary>
    public const string MeterPrefix = "EventPlatform.";

    private static readonly double[] DefaultBuckets = Histogram.ExponentialBuckets(0.001, 2, 16);

    private readonly MeterListener _listener = new();
    private readonly IMetricFactory _factory;
    private readonly IMeterFactory _scope;
    private readonly ILogger<PrometheusMeterExporter> _logger;
    private volatile bool _disposed;

    public PrometheusMeterExporter(MetricsRegistry registry, IMeterFactory meterFactory, ILogger<PrometheusMeterExporter> logger)
    {
        _factory = registry.Factory;
        _scope = meterFactory;
        _logger = logger;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((ExportedInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((ExportedInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((ExportedInstrument)state!).Record(value, tags));
        _listener.Start();
        registry.Registry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter.Scope != _scope || !instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal))
        {
            return;
        }

        var kind = instrument switch
        {
            Counter<long> or Counter<int> or Counter<double> => Kind.Counter,
            ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => Kind.ObservedCounter,
            Histogram<long> or Histogram<int> or Histogram<double> => Kind.Histogram,
            UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => Kind.UpDownCounter,
            ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<double>
                or ObservableUpDownCounter<long> or ObservableUpDownCounter<int> or ObservableUpDownCounter<double> => Kind.ObservedGauge,
            _ => (Kind?)null,
        };
        if (kind is null)
        {
            LogNotExported(_logger, instrument.Meter.Name, instrument.Name, "its kind has no Prometheus equivalent here");
            return;
        }

        listener.EnableMeasurementEvents(instrument, new ExportedInstrument(this, instrument, kind.Value));
    }

    private enum Kind
    {
        Counter,
        ObservedCounter,
        Histogram,
        UpDownCounter,
        ObservedGauge,
    }

    /// <summary>One instrument and its Prometheus metric, made on the first measurement (which names the labels).</summary>
    private sealed class ExportedInstrument(PrometheusMeterExporter owner, Instrument instrument, Kind kind)
    {
        private readonly Lock _createGate = new();
        private readonly ConcurrentDictionary<LabelValues, ICollectorChild> _children = new();
        private volatile Exported? _exported;
        private volatile bool _broken;
        private volatile LastSeries? _last;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_broken)
            {
                return;
            }

            ICollectorChild child;
            if (_last is { } last && last.IsFor(tags))
            {
                child = last.Child;
            }
            else
            {
                var exported = _exported ?? Create(tags);
                if (exported is null || !exported.Matches(tags))
                {
                    return;
                }

                child = tags.Length == 0 ? exported.Unlabelled! : Child(exported, tags);
                // Same series with other instances (a string made per request): keep the entry, no allocation.
                if (!ReferenceEquals(_last?.Child, child) && LastSeries.Worth(tags))
                {
                    _last = new LastSeries(tags.ToArray(), child);
                }
            }

            switch (kind)
            {
                case Kind.Counter when value >= 0:
                    ((Counter.Child)child).Inc(value);
                    break;
                case Kind.ObservedCounter:
                    ((Counter.Child)child).IncTo(value);
                    break;
                case Kind.Histogram:
                    ((Histogram.Child)child).Observe(value);
                    break;
                case Kind.UpDownCounter:
                    ((Gauge.Child)child).Inc(value);
                    break;
                case Kind.ObservedGauge:
                    ((Gauge.Child)child).Set(value);
                    break;
            }
        }

        private ICollectorChild Child(Exported exported, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = LabelValues.From(tags);
            if (_children.TryGetValue(key, out var child))
            {
                return child;
            }

            return _children.GetOrAdd(key, static (k, e) => e.Labelled(k.ToArray()), exported);
        }

        private Exported? Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_createGate)
            {
                if (_exported is { } done)
                {
                    return done;
                }

                if (tags.Length > LabelValues.MaxLabels)
                {
                    Fail($"it has more than {LabelValues.MaxLabels} tags");
                    return null;
                }

                var labelNames = new string[tags.Length];
                for (var i = 0; i < tags.Length; i++)
                {
                    labelNames[i] = tags[i].Key;
                }

                try
                {
                    _exported = new Exported(CreateCollector(labelNames), labelNames);
                    return _exported;
                }
                catch (ArgumentException ex)
                {
                    Fail(ex.Message);
                    return null;
                }
            }
        }

        private Collector CreateCollector(string[] labelNames)
        {
            var name = instrument.Name;
            var help = string.IsNullOrWhiteSpace(instrument.Description) ? name : instrument.Description;
            var factory = owner._factory;
            return kind switch
            {
                Kind.Counter or Kind.ObservedCounter => factory.CreateCounter(name, help, labelNames),
                Kind.Histogram => factory.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = Buckets(instrument) }),
                _ => factory.CreateGauge(name, help, labelNames),
            };
        }

        private void Fail(string reason)
        {
            _broken = true;
            LogNotExported(owner._logger, instrument.Meter.Name, instrument.Name, reason);
        }

        private static double[] Buckets(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(v => (double)v)],
            Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(v => (double)v)],
            _ => DefaultBuckets,
        };
    }

    /// <summary>
    /// The series an instrument measured last, found again by the references of its tags: callers
    /// that measure per record (the stream job's counters and latency) pass the same key and value
    /// instances every time, and skip hashing and comparing the label strings (about a twentieth of
    /// the processor's job thread, README, processor). Equal references are equal labels, so a hit
    /// is always the right series; a miss takes the dictionary as before.
    /// </summary>
    private sealed class LastSeries(KeyValuePair<string, object?>[] tags, ICollectorChild child)
    {
        public ICollectorChild Child { get; } = child;

        /// <summary>Only tags whose values are strings: boxed numbers are new objects each time and would never be found again.</summary>
        public static bool Worth(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Value is not string)
                {
                    return false;
                }
            }

            return true;
        }

        public bool IsFor(ReadOnlySpan<KeyValuePair<string, object?>> measured)
        {
            if (measured.Length != tags.Length)
            {
                return false;
            }

            for (var i = 0; i < measured.Length; i++)
            {
                if (!ReferenceEquals(measured[i].Key, tags[i].Key) || !ReferenceEquals(measured[i].Value, tags[i].Value))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>A Prometheus metric with the label names its instrument reports.</summary>
    private sealed class Exported(Collector collector, string[] labelNames)
    {
        public ICollectorChild? Unlabelled { get; } = labelNames.Length == 0 ? Labelled(collector, []) : null;

        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != labelNames.Length)
            {
                return false;
            }

            for (var i = 0; i < tags.Length; i++)
            {
                if (!string.Equals(tags[i].Key, labelNames[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public ICollectorChild Labelled(string[] values) => Labelled(collector, values);

        private static ICollectorChild Labelled(Collector collector, string[] values) => collector switch
        {
            Counter c => c.WithLabels(values),
            Histogram h => h.WithLabels(values),
            Gauge g => g.WithLabels(values),
            _ => throw new InvalidOperationException("Unexpected collector type " + collector.GetType().Name),
        };
    }

    /// <summary>The label values of one measurement, compared by value; no allocation for a lookup.</summary>
    private readonly struct LabelValues : IEquatable<LabelValues>
    {
        public const int MaxLabels = 4;

        private readonly int _count;
        private readonly string? _a;
        private readonly string? _b;
        private readonly string? _c;
        private readonly string? _d;

        private LabelValues(int count, string? a, string? b, string? c, string? d) => (_count, _a, _b, _c, _d) = (count, a, b, c, d);

        public static LabelValues From(ReadOnlySpan<KeyValuePair<string, object?>> tags) => new(
            tags.Length,
            tags.Length > 0 ? Text(tags[0].Value) : null,
            tags.Length > 1 ? Text(tags[1].Value) : null,
            tags.Length > 2 ? Text(tags[2].Value) : null,
            tags.Length > 3 ? Text(tags[3].Value) : null);

        public string[] ToArray() => _count switch
        {
            1 => [_a!],
            2 => [_a!, _b!],
            3 => [_a!, _b!, _c!],
            _ => [_a!, _b!, _c!, _d!],
        };

        public bool Equals(LabelValues other) =>
            _count == other._count && string.Equals(_a, other._a, StringComparison.Ordinal) && string.Equals(_b, other._b, StringComparison.Ordinal)
            && string.Equals(_c, other._c, StringComparison.Ordinal) && string.Equals(_d, other._d, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is LabelValues other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(_count, _a, _b, _c, _d);

        private static string Text(object? value) => value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Instrument {Meter}/{Instrument} is not exported to Prometheus: {Reason}")]
    private static partial void LogNotExported(ILogger logger, string meter, string instrument, string reason);
}
