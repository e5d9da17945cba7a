using EventPlatform.Sink.Buffering;
using EventPlatform.Sink.Transformation;
using FsCheck.Xunit;

namespace EventPlatform.Sink.Tests;

/// <summary>Property 17 against a plain model of the three thresholds.</summary>
public sealed class BufferProperties
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 12, 0, 0, TimeSpan.Zero);

    // Feature: kafka-event-streaming-platform, Property 17: Buffer flush threshold
    // For any sequence of messages sent to the Snowflake Sink, when the buffer count reaches the
    // configured threshold, all buffered messages should be flushed to Snowflake. Here with the byte
    // and time thresholds too: whichever comes first, and every record flushed once, in order.
    [Property(MaxTest = 300)]
    public void Property_17_a_buffer_is_due_exactly_when_a_threshold_is_crossed_and_flushes_everything_once(int seed)
    {
        var random = new Random(seed);
        var policy = new FlushPolicy(random.Next(1, 50), random.Next(1, 5000), TimeSpan.FromMilliseconds(random.Next(1, 2000)));
        var buffer = new PartitionBuffer(policy);
        var now = Start;
        var flushed = new List<long>();
        var pending = new List<(long Offset, int Size)>();
        DateTimeOffset? firstAt = null;
        var records = random.Next(1, 400);
        for (long offset = 0; offset < records; offset++)
        {
            now += TimeSpan.FromMilliseconds(random.Next(0, 300));
            var size = random.Next(1, 400);
            buffer.Add(Row(offset, size), now);
            pending.Add((offset, size));
            firstAt ??= now;

            // The model: count reached, bytes exceeded, or the flush time passed since the first record.
            var expected = pending.Count >= policy.CountRecords ? FlushReason.Count
                : pending.Sum(p => (long)p.Size) > policy.SizeBytes ? FlushReason.Size
                : now - firstAt >= policy.FlushTime ? FlushReason.Time
                : FlushReason.None;
            Assert.Equal(expected, buffer.Due(now));
            Assert.Equal(pending.Count, buffer.Count);

            if (expected != FlushReason.None)
            {
                var (rows, next) = buffer.Drain();
                Assert.Equal(pending.Select(p => p.Offset), rows.Select(r => r.Source.Offset));
                Assert.Equal(offset + 1, next);
                Assert.True(rows.Count <= policy.CountRecords);
                flushed.AddRange(rows.Select(r => r.Source.Offset));
                pending.Clear();
                firstAt = null;
                Assert.Equal(FlushReason.None, buffer.Due(now));
            }
        }

        // What is left goes on shutdown: every record flushed exactly once, in offset order.
        flushed.AddRange(buffer.Drain().Rows.Select(r => r.Source.Offset));
        Assert.Equal(Enumerable.Range(0, records).Select(i => (long)i), flushed);
    }

    // Feature: kafka-event-streaming-platform, Property 17: Buffer flush threshold
    // An idle buffer becomes due by time alone once the flush time has passed since its first record.
    [Property(MaxTest = 100)]
    public void Property_17_time_alone_flushes_a_partial_buffer(int seed)
    {
        var random = new Random(seed);
        var flushTime = TimeSpan.FromMilliseconds(random.Next(1, 60_000));
        var buffer = new PartitionBuffer(new FlushPolicy(10_000, 5_000_000, flushTime));
        buffer.Add(Row(0, 10), Start);

        Assert.Equal(FlushReason.None, buffer.Due(Start + flushTime - TimeSpan.FromTicks(1)));
        Assert.Equal(FlushReason.Time, buffer.Due(Start + flushTime));
    }

    [Fact]
    public void A_skipped_record_moves_the_offset_and_is_flushed_by_time()
    {
        var buffer = new PartitionBuffer(new FlushPolicy(10, 1000, TimeSpan.FromSeconds(1)));

        buffer.Advance(5, Start);

        Assert.Equal(FlushReason.Time, buffer.Due(Start.AddSeconds(1)));
        var (rows, next) = buffer.Drain();
        Assert.Empty(rows);
        Assert.Equal(6, next);
    }

    private static EventRow Row(long offset, int size) => new()
    {
        Source = new RecordPosition("events.iot.sensors", 0, offset),
        SizeBytes = size,
        OriginalMessage = [],
        EventId = "evt_" + offset,
        Timestamp = Start.UtcDateTime,
        EventType = "iot.sensor",
        Payload = "{}",
        IngestionTime = Start.UtcDateTime,
    };
}
