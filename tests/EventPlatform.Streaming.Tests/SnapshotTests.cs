using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Windows;
using FsCheck.Xunit;
using System.Buffers;

namespace EventPlatform.Streaming.Tests;

public class SnapshotTests
{
    private const long Bound = 100;

    [Property(MaxTest = 150)]
    public void A_restored_operator_continues_exactly_as_the_original(int seed)
    {
        var random = new Random(seed);
        var definition = RandomDefinition(random);
        int? precision = random.Next(3) == 0 ? 6 : null;
        var events = RandomStreams.Events(random, maxCount: 120, baseTime: random.NextInt64(-3_000, 3_000), span: 3_000);
        var arrival = events.OrderBy(e => e.Timestamp + random.Next(400)).ToList();
        var split = random.Next(arrival.Count + 1);
        var original = new Harness(definition, Bound, partitions: 2, precision);
        original.FeedAll(arrival.Take(split));

        var snapshot = Snapshot(original);
        var restored = new Harness(definition, Bound, partitions: 2, precision);
        Restore(restored, snapshot);

        Assert.Equal(snapshot, Snapshot(restored));
        Assert.Equal(original.Operator.Watermark, restored.Operator.Watermark);
        Assert.Equal(original.Operator.WindowCount, restored.Operator.WindowCount);
        var emittedBefore = original.Output.Results.Count;
        var lateBefore = original.Output.Late.Count;
        foreach (var harness in new[] { original, restored })
        {
            harness.FeedAll(arrival.Skip(split));
            harness.Finish();
        }
        Assert.Equal(original.Output.Results.Skip(emittedBefore), restored.Output.Results);
        Assert.Equal(original.Output.Late.Skip(lateBefore), restored.Output.Late);
        Assert.Equal(original.Operator.DroppedLateCount, restored.Operator.DroppedLateCount);
    }

    [Fact]
    public void Every_truncation_of_a_snapshot_is_refused_cleanly()
    {
        var snapshot = SampleSnapshot(out var definition);

        for (var length = 0; length < snapshot.Length; length++)
        {
            var target = new Harness(definition, Bound, partitions: 2);
            Assert.Throws<SnapshotFormatException>(() => Restore(target, snapshot[..length]));
        }
    }

    [Property(MaxTest = 300)]
    public void A_corrupted_snapshot_is_refused_cleanly_or_restores_a_working_operator(int seed)
    {
        var random = new Random(seed);
        var snapshot = SampleSnapshot(out var definition);
        for (var flips = 1 + random.Next(4); flips > 0; flips--)
        {
            snapshot[random.Next(snapshot.Length)] = (byte)random.Next(256);
        }
        var target = new Harness(definition, Bound, partitions: 2);

        try
        {
            Restore(target, snapshot);
        }
        catch (SnapshotFormatException)
        {
            return;
        }
        // Whatever was accepted must run: fire and purge every window.
        target.Finish();
        Assert.Equal(0, target.Operator.WindowCount);
    }

    [Fact]
    public void A_refused_snapshot_leaves_the_operator_unchanged()
    {
        var snapshot = SampleSnapshot(out var definition);
        var operatorSection = snapshot[WatermarkSectionLength(snapshot)..];
        var target = new Harness(definition, Bound, partitions: 2);
        target.Feed(new TestEvent(1, "x", 5, 1, null));
        var before = OperatorSnapshot(target);

        Assert.Throws<SnapshotFormatException>(() =>
            target.Operator.RestoreSnapshot(new SnapshotReader(operatorSection[..^3]), StateSerializers.String, EventAggregator.AccumulatorSerializer));

        Assert.Equal(before, OperatorSnapshot(target));
    }

    [Fact]
    public void A_huge_count_is_refused_without_allocating_it()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(buffer);
        writer.WriteInt32(int.MaxValue);

        var exception = Assert.Throws<SnapshotFormatException>(() => new SnapshotReader(buffer.WrittenMemory).ReadCount(int.MaxValue, bytesPerItem: 1));
        Assert.Contains("exceeds the bytes that remain", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_of_another_version_or_definition_is_refused_with_a_clear_message()
    {
        var snapshot = SampleSnapshot(out var definition);
        var operatorStart = WatermarkSectionLength(snapshot);

        var otherVersion = (byte[])snapshot.Clone();
        otherVersion[operatorStart] = 9;
        var versionError = Assert.Throws<SnapshotFormatException>(() => Restore(new Harness(definition, Bound, 2), otherVersion));
        Assert.Contains("version 9", versionError.Message, StringComparison.Ordinal);

        var otherDefinition = new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromSeconds(7)), definition.LatePolicy);
        var definitionError = Assert.Throws<SnapshotFormatException>(() => Restore(new Harness(otherDefinition, Bound, 2), snapshot));
        Assert.Contains("another window definition", definitionError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var snapshot = SampleSnapshot(out var definition);
        var reader = new SnapshotReader(snapshot.Append((byte)0).ToArray());
        var target = new Harness(definition, Bound, 2);
        target.Tracker.RestoreSnapshot(reader);
        target.Operator.RestoreSnapshot(reader, StateSerializers.String, EventAggregator.AccumulatorSerializer);

        Assert.Throws<SnapshotFormatException>(reader.ExpectEnd);
    }

    private static WindowDefinition RandomDefinition(Random random)
    {
        var assigner = random.Next(3) == 0 ? WindowAssigner.Session(TimeSpan.FromMilliseconds(1 + random.Next(200))) : RandomStreams.TumblingOrSliding(random);
        var policy = random.Next(3) switch
        {
            0 => LateDataPolicy.Drop,
            1 => LateDataPolicy.SideOutput,
            _ => LateDataPolicy.Update(TimeSpan.FromMilliseconds(random.Next(1000))),
        };
        return new WindowDefinition(assigner, policy);
    }

    private static byte[] SampleSnapshot(out WindowDefinition definition)
    {
        definition = new WindowDefinition(WindowAssigner.Sliding(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100)), LateDataPolicy.Update(TimeSpan.FromMilliseconds(500)));
        var harness = new Harness(definition, Bound, partitions: 2);
        var random = new Random(7);
        harness.FeedAll(RandomStreams.ArrivalWithinBound(random, RandomStreams.Events(random, 40, 0, 1_000), 300));
        return Snapshot(harness);
    }

    private static int WatermarkSectionLength(byte[] snapshot)
    {
        var reader = new SnapshotReader(snapshot);
        new Harness(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromSeconds(1)), LateDataPolicy.Drop), Bound).Tracker.RestoreSnapshot(reader);
        return snapshot.Length - reader.Remaining;
    }

    private static byte[] Snapshot(Harness harness)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(buffer);
        harness.Tracker.WriteSnapshot(writer);
        harness.Operator.WriteSnapshot(writer, StateSerializers.String, EventAggregator.AccumulatorSerializer);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] OperatorSnapshot(Harness harness)
    {
        var buffer = new ArrayBufferWriter<byte>();
        harness.Operator.WriteSnapshot(new SnapshotWriter(buffer), StateSerializers.String, EventAggregator.AccumulatorSerializer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Restore(Harness harness, byte[] snapshot)
    {
        var reader = new SnapshotReader(snapshot);
        harness.Tracker.RestoreSnapshot(reader);
        harness.Operator.RestoreSnapshot(reader, StateSerializers.String, EventAggregator.AccumulatorSerializer);
        reader.ExpectEnd();
    }
}
