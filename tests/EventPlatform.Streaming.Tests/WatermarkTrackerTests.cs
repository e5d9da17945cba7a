using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Time;
using EventPlatform.Streaming.Windows;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using System.Buffers;

namespace EventPlatform.Streaming.Tests;

public class WatermarkTrackerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_watermark_is_the_largest_timestamp_minus_the_bound_minus_one()
    {
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound }, new FakeTimeProvider());
        tracker.Observe(0, 50_000);
        tracker.Observe(0, 40_000);

        Assert.Equal(39_999, tracker.CurrentWatermark());
    }

    [Fact]
    public void The_slowest_active_partition_holds_the_watermark_and_one_that_never_delivered_holds_it_at_the_start()
    {
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound }, new FakeTimeProvider());
        tracker.AddPartition(0);
        tracker.AddPartition(1);
        tracker.AddPartition(2);
        tracker.Observe(0, 100_000);
        tracker.Observe(1, 60_000);
        Assert.Equal(EventTime.NoWatermark, tracker.CurrentWatermark());

        tracker.Observe(2, 80_000);
        Assert.Equal(49_999, tracker.CurrentWatermark());
    }

    [Fact]
    public void An_idle_partition_does_not_stall_the_watermark_and_rejoins_when_it_delivers()
    {
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound, IdleTimeout = TimeSpan.FromSeconds(30) }, clock);
        tracker.AddPartition(0);
        tracker.AddPartition(1);
        tracker.Observe(0, 100_000);
        Assert.Equal(EventTime.NoWatermark, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(20));
        tracker.Observe(0, 120_000);
        Assert.Equal(EventTime.NoWatermark, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(109_999, tracker.CurrentWatermark());

        // Partition 1 wakes up behind: it rejoins the minimum, but the watermark does not go back.
        tracker.Observe(1, 50_000);
        Assert.Equal(109_999, tracker.CurrentWatermark());
        tracker.Observe(0, 200_000);
        tracker.Observe(1, 150_000);
        Assert.Equal(139_999, tracker.CurrentWatermark());
    }

    [Fact]
    public void When_every_partition_is_idle_the_watermark_holds_without_a_stream_idle_timeout()
    {
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound, IdleTimeout = TimeSpan.FromSeconds(5) }, clock);
        tracker.Observe(0, 100_000);
        var before = tracker.CurrentWatermark();

        clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(before, tracker.CurrentWatermark());
    }

    [Fact]
    public void A_quiet_stream_advances_event_time_with_the_wall_clock_from_its_last_record()
    {
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(
            new WatermarkOptions { MaxOutOfOrderness = Bound, IdleTimeout = TimeSpan.FromSeconds(5), StreamIdleTimeout = TimeSpan.FromSeconds(60) }, clock);
        tracker.AddPartition(0);
        tracker.AddPartition(1);
        tracker.Observe(0, 100_000);
        tracker.Observe(1, 90_000);
        Assert.Equal(79_999, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(79_999, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100_000 + 60_000 - 10_000 - 1, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(100_000 + 100_000 - 10_000 - 1, tracker.CurrentWatermark());

        // A record ends the quiet spell; the watermark does not go back.
        tracker.Observe(0, 101_000);
        Assert.Equal(189_999, tracker.CurrentWatermark());
    }

    [Fact]
    public void The_stream_idle_timeout_applies_even_when_partitions_never_go_idle_on_their_own()
    {
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound, StreamIdleTimeout = TimeSpan.FromSeconds(30) }, clock);
        tracker.AddPartition(0);
        tracker.AddPartition(1);
        tracker.Observe(0, 100_000);
        Assert.Equal(EventTime.NoWatermark, tracker.CurrentWatermark());

        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(100_000 + 30_000 - 10_000 - 1, tracker.CurrentWatermark());
    }

    [Fact]
    public void A_quiet_stream_closes_its_last_window()
    {
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(new WatermarkOptions { MaxOutOfOrderness = Bound, StreamIdleTimeout = TimeSpan.FromSeconds(30) }, clock);
        var output = new WindowOutputBuffer<string, TestEvent, AggregatedReadings>();
        var op = new KeyedWindowOperator<string, TestEvent, ReadingAccumulator, AggregatedReadings>(
            new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), LateDataPolicy.Drop), new TestEventAggregator(), output);
        tracker.Observe(0, 59_000);
        op.Process("k", 59_000, new TestEvent(0, "k", 59_000, 1, null));
        op.AdvanceWatermark(tracker.CurrentWatermark());
        Assert.Empty(output.Results);

        clock.Advance(TimeSpan.FromSeconds(29));
        op.AdvanceWatermark(tracker.CurrentWatermark());
        Assert.Empty(output.Results);

        clock.Advance(TimeSpan.FromSeconds(1));
        op.AdvanceWatermark(tracker.CurrentWatermark());
        Assert.Single(output.Results);
    }

    [Property(MaxTest = 200)]
    public void The_combined_watermark_never_goes_backwards(int seed)
    {
        var random = new Random(seed);
        var clock = new FakeTimeProvider();
        var tracker = new WatermarkTracker(
            new WatermarkOptions
            {
                MaxOutOfOrderness = TimeSpan.FromMilliseconds(random.Next(0, 1000)),
                IdleTimeout = random.Next(2) == 0 ? null : TimeSpan.FromMilliseconds(1 + random.Next(500)),
                StreamIdleTimeout = random.Next(2) == 0 ? null : TimeSpan.FromMilliseconds(1 + random.Next(2000)),
            },
            clock);
        var previous = EventTime.NoWatermark;
        for (var step = 0; step < 200; step++)
        {
            switch (random.Next(10))
            {
                case 0:
                    tracker.AddPartition(random.Next(4));
                    break;
                case 1:
                    tracker.RemovePartition(random.Next(4));
                    break;
                case < 5:
                    clock.Advance(TimeSpan.FromMilliseconds(random.Next(1000)));
                    break;
                default:
                    tracker.Observe(random.Next(4), random.NextInt64(-10_000, 10_000));
                    break;
            }
            var watermark = tracker.CurrentWatermark();
            Assert.True(watermark >= previous, $"watermark went from {previous} to {watermark}");
            previous = watermark;
        }
    }

    /// <summary>
    /// The tracker keeps the minimum over active partitions between calls instead of recomputing it
    /// per record: random partitions, out-of-order timestamps, clock steps across idle deadlines,
    /// partitions added and removed, with the watermark asked for at random moments, always equal a
    /// plain computation over every partition.
    /// </summary>
    [Property(MaxTest = 300)]
    public void The_watermark_equals_a_plain_computation_over_every_partition(int seed)
    {
        var random = new Random(seed);
        var clock = new FakeTimeProvider();
        var bound = random.Next(0, 1000);
        long? idle = random.Next(3) == 0 ? null : 1 + random.Next(500);
        long? streamIdle = random.Next(2) == 0 ? null : 1 + random.Next(2000);
        var tracker = new WatermarkTracker(
            new WatermarkOptions
            {
                MaxOutOfOrderness = TimeSpan.FromMilliseconds(bound),
                IdleTimeout = idle is { } i ? TimeSpan.FromMilliseconds(i) : null,
                StreamIdleTimeout = streamIdle is { } s ? TimeSpan.FromMilliseconds(s) : null,
            },
            clock);
        // The reference: per partition its largest timestamp and last activity, in milliseconds.
        var partitions = new Dictionary<int, (long Max, long Last)>();
        long now = 0, combined = EventTime.NoWatermark, maxSeen = EventTime.NoWatermark, lastRecord = 0;
        var anyRecord = false;
        long PartitionWatermark(long max) => max == EventTime.NoWatermark ? EventTime.NoWatermark : max - bound - 1;
        long Reference()
        {
            var active = partitions.Values.Where(p => idle is not { } timeout || now - p.Last < timeout).Select(p => PartitionWatermark(p.Max)).ToList();
            var candidate = active.Count == 0 ? EventTime.NoWatermark : active.Min();
            if (anyRecord && streamIdle is { } quiet && now - lastRecord >= quiet)
            {
                candidate = Math.Max(candidate, PartitionWatermark(maxSeen + (now - lastRecord)));
            }
            combined = Math.Max(combined, candidate);
            return combined;
        }

        var partitionCount = 1 + random.Next(6);
        for (var step = 0; step < 300; step++)
        {
            var partition = random.Next(partitionCount);
            switch (random.Next(12))
            {
                case 0:
                    tracker.AddPartition(partition);
                    partitions.TryAdd(partition, (EventTime.NoWatermark, now));
                    break;
                case 1:
                    tracker.RemovePartition(partition);
                    partitions.Remove(partition);
                    break;
                case < 5:
                    var advance = random.Next(3) == 0 ? random.Next(1000) : random.Next(20);
                    clock.Advance(TimeSpan.FromMilliseconds(advance));
                    now += advance;
                    break;
                default:
                    var timestamp = random.NextInt64(-10_000, 10_000) + now * 5;
                    tracker.Observe(partition, timestamp);
                    partitions[partition] = (Math.Max(partitions.TryGetValue(partition, out var p) ? p.Max : EventTime.NoWatermark, timestamp), now);
                    maxSeen = Math.Max(maxSeen, timestamp);
                    lastRecord = now;
                    anyRecord = true;
                    break;
            }
            if (random.Next(2) == 0)
            {
                Assert.Equal(Reference(), tracker.CurrentWatermark());
            }
        }
        Assert.Equal(Reference(), tracker.CurrentWatermark());
    }

    [Fact]
    public void A_snapshot_restores_event_time_and_restarts_idleness_from_now()
    {
        var clock = new FakeTimeProvider();
        var options = new WatermarkOptions { MaxOutOfOrderness = Bound, IdleTimeout = TimeSpan.FromSeconds(5) };
        var original = new WatermarkTracker(options, clock);
        original.Observe(0, 100_000);
        original.Observe(3, 70_000);
        original.CurrentWatermark();
        var buffer = new ArrayBufferWriter<byte>();
        original.WriteSnapshot(new SnapshotWriter(buffer));

        var restored = new WatermarkTracker(options, clock);
        restored.RestoreSnapshot(new SnapshotReader(buffer.WrittenMemory));

        Assert.Equal([0, 3], restored.Partitions.Order());
        Assert.Equal(59_999, restored.CurrentWatermark());
        clock.Advance(TimeSpan.FromSeconds(5));
        restored.Observe(0, 110_000);
        Assert.Equal(99_999, restored.CurrentWatermark());
    }
}
