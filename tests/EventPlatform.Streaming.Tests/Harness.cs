using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Time;
using EventPlatform.Streaming.Windows;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>Drives an operator as a consume loop would: observe, process, advance the watermark.</summary>
public sealed class Harness
{
    private readonly WatermarkTracker _tracker;
    private readonly int _partitions;

    public Harness(WindowDefinition definition, long boundMs, int partitions = 1, int? hyperLogLogPrecision = null)
    {
        Output = new WindowOutputBuffer<string, TestEvent, AggregatedReadings>();
        Operator = new KeyedWindowOperator<string, TestEvent, ReadingAccumulator, AggregatedReadings>(
            definition, new TestEventAggregator(hyperLogLogPrecision), Output);
        _tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromMilliseconds(boundMs) }, new FakeTimeProvider());
        _partitions = partitions;
        for (var p = 0; p < partitions; p++)
        {
            _tracker.AddPartition(p);
        }
    }

    public KeyedWindowOperator<string, TestEvent, ReadingAccumulator, AggregatedReadings> Operator { get; }

    public WindowOutputBuffer<string, TestEvent, AggregatedReadings> Output { get; }

    public WatermarkTracker Tracker => _tracker;

    public void Feed(TestEvent e)
    {
        _tracker.Observe(e.Id % _partitions, e.Timestamp);
        Operator.Process(e.Key, e.Timestamp, e);
        Operator.AdvanceWatermark(_tracker.CurrentWatermark());
    }

    public void FeedAll(IEnumerable<TestEvent> events)
    {
        foreach (var e in events)
        {
            Feed(e);
        }
    }

    /// <summary>The end of the stream: every window fires and is purged.</summary>
    public void Finish() => Operator.AdvanceWatermark(long.MaxValue);

    /// <summary>The last result emitted per (key, window).</summary>
    public Dictionary<(string Key, WindowIdentity Window), AggregatedReadings> FinalResults() =>
        Output.Results.GroupBy(r => (r.Key, r.Window)).ToDictionary(g => g.Key, g => g.Last().Result);
}
