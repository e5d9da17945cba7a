using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime;
using FsCheck;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

public sealed class RepartitionRecordsTests
{
    private static readonly byte[] Tag = RepartitionRecords.Tag("0123456789abcdef0123");
    private readonly RepartitionRecords _records = new(Tag, ["events.clickstream", "events.iot.sensors"]);

    [Fact]
    public void A_data_record_reads_back_its_source_offset_and_timestamp_with_key_and_value_unchanged()
    {
        var source = new SourceRecord("events.iot.sensors", 7, 123_456_789_012, [1, 2], [3, 4, 5], 1_700_000_000_123);

        var message = _records.Data(source);

        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(message, out var routed));
        Assert.Equal(new SourcePartition("events.iot.sensors", 7), routed.Source);
        Assert.Equal(123_456_789_012, routed.Offset);
        Assert.Equal(1_700_000_000_123, routed.Timestamp);
        Assert.False(routed.IsWatermark);
        Assert.Equal(source.Key, message.Key);
        Assert.Equal(source.Value, message.Value);
        Assert.Single(message.Headers);
    }

    [Fact]
    public void A_batch_reads_back_every_record_in_order_with_source_offset_timestamp_key_and_value_unchanged()
    {
        SourceRecord[] sources =
        [
            new("events.iot.sensors", 7, 123_456_789_012, [1, 2], [3, 4, 5], 1_700_000_000_123),
            new("events.clickstream", 0, 0, null, [], -5),
            new("events.iot.sensors", 7, 123_456_789_013, [], [9], long.MaxValue),
        ];
        var batch = _records.NewBatch();
        foreach (var source in sources)
        {
            _records.Append(batch, source);
        }

        var message = _records.TakeBatch(batch);

        Assert.Equal(0, batch.Count);
        Assert.Equal(long.MaxValue, message.Timestamp.UnixTimestampMs);
        Assert.Single(message.Headers);
        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(message, out var routed));
        Assert.False(routed.IsWatermark);
        var read = routed.Batch!.Select(item => item.ToRecord(routed.BatchBytes!)).ToArray();
        Assert.Equal(sources.Length, read.Length);
        for (var i = 0; i < sources.Length; i++)
        {
            Assert.Equal((sources[i].Topic, sources[i].Partition, sources[i].Offset, sources[i].Timestamp), (read[i].Topic, read[i].Partition, read[i].Offset, read[i].Timestamp));
            Assert.Equal(sources[i].Key, read[i].Key);
            Assert.Equal(sources[i].Value, read[i].Value);
        }
    }

    [Fact]
    public void A_batch_is_empty_again_after_it_is_taken_and_the_next_one_holds_only_its_own_records()
    {
        var batch = _records.NewBatch();
        _records.Append(batch, new SourceRecord("events.clickstream", 1, 10, null, [1], 1));
        _ = _records.TakeBatch(batch);
        _records.Append(batch, new SourceRecord("events.clickstream", 1, 11, null, [2], 2));

        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(_records.TakeBatch(batch), out var routed));
        Assert.Equal([11L], routed.Batch!.Select(item => item.Offset));
    }

    [Fact]
    public void A_batch_that_is_cut_short_or_names_a_topic_that_is_not_a_source_is_refused_whole()
    {
        var batch = _records.NewBatch();
        _records.Append(batch, new SourceRecord("events.clickstream", 1, 10, [1], [1, 2, 3], 1));
        _records.Append(batch, new SourceRecord("events.clickstream", 1, 11, [1], [4, 5, 6], 2));
        var message = _records.TakeBatch(batch);
        var whole = message.Value;

        for (var cut = 0; cut < whole.Length; cut++)
        {
            message.Value = whole[..cut];
            Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(message, out _));
        }

        var other = new RepartitionRecords(Tag, ["events.clickstream", "other"]);
        var forged = other.NewBatch();
        other.Append(forged, new SourceRecord("other", 0, 1, null, [1], 2));
        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(other.TakeBatch(forged), out _));
    }

    /// <summary>Random batch bytes under this job's tag never throw, and every record they read names a source topic and lies inside the bytes.</summary>
    [Property(MaxTest = 500)]
    public void Random_batch_bytes_never_throw_and_read_only_records_inside_them(byte[] value, bool withTable)
    {
        value ??= [];
        byte[] table = [2, 0, 18, .. Encoding.UTF8.GetBytes("events.clickstream"), 0, 18, .. Encoding.UTF8.GetBytes("events.iot.sensors")];
        var message = new Message<byte[]?, byte[]>
        {
            Value = withTable ? [.. table, .. value] : value,
            Headers = new Headers { { "ep.r", [2, 2, (byte)Tag.Length, .. Tag] } },
        };

        if (_records.TryRead(message, out var routed) == RepartitionRecords.ReadOutcome.Read)
        {
            foreach (var item in routed.Batch!)
            {
                var record = item.ToRecord(routed.BatchBytes!);
                Assert.Contains(record.Topic, new[] { "events.clickstream", "events.iot.sensors" });
                Assert.True(item.Offset >= 0 && item.Source.Partition >= 0);
            }
        }
    }

    [Fact]
    public void A_watermark_record_reads_back_the_largest_event_time_of_every_source_partition_in_it()
    {
        (SourcePartition, long)[] sources = [(new("events.clickstream", 2), -5), (new("events.iot.sensors", 11), long.MaxValue), (new("events.clickstream", 0), 10)];

        var message = _records.Watermarks(sources, 1_700_000_000_000);

        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(message, out var routed));
        Assert.True(routed.IsWatermark);
        Assert.Equal(sources, routed.Watermarks);
        Assert.Single(message.Headers);
    }

    [Fact]
    public void A_record_under_the_jobs_tag_naming_a_topic_that_is_not_its_source_is_refused_in_either_format()
    {
        // The tag covers the job's topics, so such a record was forged or corrupted: it must not make state of its own.
        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(_records.Data(new SourceRecord("other", 0, 1, null, [1], 2)), out _));
        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(_records.Watermarks([(new("events.clickstream", 0), 1), (new("other", 0), 10)], 1), out _));
        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(Format1Data(Tag, new SourceRecord("", 0, 1, null, [1], 2)), out _));
    }

    [Fact]
    public void Records_of_another_job_definition_are_foreign_in_either_format()
    {
        var other = new RepartitionRecords(RepartitionRecords.Tag("fedcba9876543210"), ["events.clickstream"]);
        var source = new SourceRecord("events.clickstream", 0, 1, null, [1], 2);

        Assert.Equal(RepartitionRecords.ReadOutcome.Foreign, _records.TryRead(other.Data(source), out _));
        Assert.Equal(RepartitionRecords.ReadOutcome.Foreign, _records.TryRead(Format1Data(RepartitionRecords.Tag("fedcba9876543210"), source), out _));
        Assert.Equal(RepartitionRecords.ReadOutcome.Foreign, _records.TryRead(new Message<byte[]?, byte[]> { Value = [1] }, out _));
    }

    [Fact]
    public void Format_1_records_written_by_the_previous_version_are_read()
    {
        var source = new SourceRecord("events.clickstream", 3, 42, [9], [8, 7], 1_000);

        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(Format1Data(Tag, source), out var data));
        Assert.Equal((new SourcePartition("events.clickstream", 3), 42L, 1_000L, false), (data.Source, data.Offset, data.Timestamp, data.IsWatermark));

        var watermark = new Message<byte[]?, byte[]>
        {
            Value = [],
            Timestamp = new Timestamp(5, TimestampType.CreateTime),
            Headers = new Headers { { "ep.job", Tag }, { "ep.src.topic", Encoding.UTF8.GetBytes("events.clickstream") }, { "ep.src.partition", Int32(3) }, { "ep.src.max-time", Int64(900) } },
        };
        Assert.Equal(RepartitionRecords.ReadOutcome.Read, _records.TryRead(watermark, out var mark));
        Assert.Equal([(new SourcePartition("events.clickstream", 3), 900L)], mark.Watermarks!);
    }

    [Theory]
    [InlineData(new byte[] { 3, 0, 0 })]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 2, 0, 200, 1, 2 })]
    public void A_record_in_an_unknown_format_is_refused_not_guessed_at(byte[] header)
    {
        var message = new Message<byte[]?, byte[]> { Value = [1], Headers = new Headers { { "ep.r", header } } };

        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(message, out _));
    }

    [Theory]
    [InlineData(9, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(0, new byte[] { 0, 0, 0, 0, 0, 0, 1 })]
    [InlineData(1, new byte[] { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(1, new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 })]
    [InlineData(1, new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 })]
    public void A_record_of_this_job_with_an_unknown_kind_or_a_bad_layout_is_refused(byte kind, byte[] rest)
    {
        byte[] header = [2, kind, (byte)Tag.Length, .. Tag, .. rest];
        var message = new Message<byte[]?, byte[]> { Value = [1], Headers = new Headers { { "ep.r", header } } };

        Assert.Equal(RepartitionRecords.ReadOutcome.UnknownFormat, _records.TryRead(message, out _));
    }

    /// <summary>
    /// Anyone who can write the repartition topic can write anything there: random header bytes (with
    /// and without this job's tag in front, so the layout parser is reached), invalid UTF-8 topic names
    /// and random format-1 headers never throw; a format-2 record that reads names one of the job's own
    /// source topics (format 1, the previous version's, carries the topic name as it is).
    /// </summary>
    [Property(MaxTest = 500)]
    public void Random_header_bytes_never_throw_and_never_read_as_another_topic(byte[] rest, byte kind, byte[] topic, bool tagged, bool format1)
    {
        rest ??= [];
        topic ??= [];
        var message = new Message<byte[]?, byte[]> { Value = [1], Timestamp = new Timestamp(1, TimestampType.CreateTime) };
        message.Headers = format1
            ? new Headers { { "ep.job", Tag }, { "ep.src.topic", topic }, { "ep.src.partition", rest.Take(4).ToArray() }, { "ep.src.offset", rest.Skip(4).Take(8).ToArray() } }
            : new Headers { { "ep.r", tagged ? [2, kind, (byte)Tag.Length, .. Tag, .. rest] : rest } };

        var outcome = _records.TryRead(message, out var routed);

        if (!format1 && outcome == RepartitionRecords.ReadOutcome.Read && !routed.IsWatermark)
        {
            Assert.Contains(routed.Source.Topic, new[] { "events.clickstream", "events.iot.sensors" });
        }
    }

    private static Message<byte[]?, byte[]> Format1Data(byte[] tag, SourceRecord record) => new()
    {
        Key = record.Key,
        Value = record.Value,
        Timestamp = new Timestamp(record.Timestamp, TimestampType.CreateTime),
        Headers = new Headers { { "ep.job", tag }, { "ep.src.topic", Encoding.UTF8.GetBytes(record.Topic) }, { "ep.src.partition", Int32(record.Partition) }, { "ep.src.offset", Int64(record.Offset) } },
    };

    private static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
