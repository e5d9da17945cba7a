using BenchmarkDotNet.Attributes;
using EventPlatform.Streaming;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Benchmarks;

/// <summary>
/// The engine's window operators with the seed's aggregation, over the processor benchmark's input
/// (bench/processor.sh): 100,000 events 5 ms of event time apart, three event types, 5,000 users,
/// the watermark 10 s behind and advanced every 100 records, then every window fired. One benchmark
/// per window definition of the default job, and all five together (each per event type; the session
/// per event type and user). Events per second = 100,000 / the mean.
/// </summary>
[MemoryDiagnoser]
public class WindowOperatorBenchmarks
{
    private const int Events = 100_000;
    private const long Bound = 10_000;
    private static readonly LateDataPolicy Late = LateDataPolicy.Update(TimeSpan.FromMinutes(1));
    private static readonly string[] Types = ["iot.sensor", "clickstream", "transaction"];

    private readonly EventAggregator _aggregator = new();
    private (string Type, string PerUser, long Time, Reading Reading)[] _events = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(8);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        _events = new (string, string, long, Reading)[Events];
        for (var i = 0; i < Events; i++)
        {
            var type = Types[i % 3];
            var user = $"user-{random.Next(5_000)}";
            _events[i] = (type, type + "|" + user, start + i * 5L, new Reading(Math.Round(random.NextDouble() * 1000, 2), user));
        }
    }

    [Benchmark(Baseline = true)]
    public long Tumbling1Minute() => Run(null, Window(WindowAssigner.Tumbling(TimeSpan.FromMinutes(1))));

    [Benchmark]
    public long Sliding5By1Minute() => Run(null, Window(WindowAssigner.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1))));

    [Benchmark]
    public long Session30MinutesPerUser() => Run(sessions: Window(WindowAssigner.Session(TimeSpan.FromMinutes(30))));

    [Benchmark]
    public long DefaultJobFiveWindows() => Run(
        sessions: Window(WindowAssigner.Session(TimeSpan.FromMinutes(30))),
        Window(WindowAssigner.Tumbling(TimeSpan.FromMinutes(1))),
        Window(WindowAssigner.Tumbling(TimeSpan.FromMinutes(5))),
        Window(WindowAssigner.Tumbling(TimeSpan.FromMinutes(15))),
        Window(WindowAssigner.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1))));

    private Operator Window(WindowAssigner assigner) => new(new WindowDefinition(assigner, Late), _aggregator, new CountingOutput());

    private long Run(Operator? sessions, params Operator[] perType)
    {
        for (var i = 0; i < _events.Length; i++)
        {
            var (type, perUser, time, reading) = _events[i];
            foreach (var op in perType)
            {
                op.Process(type, time, reading);
            }
            sessions?.Process(perUser, time, reading);
            if (i % 100 == 99)
            {
                foreach (var op in perType)
                {
                    op.AdvanceWatermark(time - Bound);
                }
                sessions?.AdvanceWatermark(time - Bound);
            }
        }
        long results = 0;
        foreach (var op in sessions is null ? perType : [.. perType, sessions])
        {
            op.AdvanceWatermark(EventTime.MaxTimestamp);
            results += op.Results;
        }
        return results;
    }

    private sealed class Operator(WindowDefinition definition, EventAggregator aggregator, CountingOutput output)
    {
        private readonly KeyedWindowOperator<string, Reading, ReadingAccumulator, AggregatedReadings> _op = new(definition, aggregator, output);

        public void Process(string key, long time, Reading reading) => _op.Process(key, time, reading);

        public void AdvanceWatermark(long watermark) => _op.AdvanceWatermark(watermark);

        public long Results => output.Count;
    }

    private sealed class CountingOutput : IWindowOutput<string, Reading, AggregatedReadings>
    {
        public long Count { get; private set; }

        public void Emit(in WindowResult<string, AggregatedReadings> result) => Count++;

        public void EmitLate(in LateRecord<string, Reading> record) => Count++;
    }
}
