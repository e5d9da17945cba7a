using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Streaming.DataStream;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// The records of a repartition topic. A data record is a source record as read (key, value and
/// timestamp unchanged) with where it came from in headers; a watermark record says how far event
/// time has come in one source partition. Both carry a tag of the job's fingerprint, so records
/// left by another definition of the job are skipped rather than applied.
/// </summary>
internal static class RepartitionRecords
{
    private const string JobHeader = "ep.job";
    private const string TopicHeader = "ep.src.topic";
    private const string PartitionHeader = "ep.src.partition";
    private const string OffsetHeader = "ep.src.offset";
    private const string WatermarkHeader = "ep.src.max-time";

    /// <summary>The first 16 hex digits of the fingerprint: enough to tell definitions apart.</summary>
    public static byte[] Tag(string fingerprint) => Encoding.ASCII.GetBytes(fingerprint[..Math.Min(16, fingerprint.Length)]);

    public static Message<byte[]?, byte[]> Data(byte[] tag, SourceRecord record) => new()
    {
        Key = record.Key,
        Value = record.Value,
        Timestamp = new Timestamp(record.Timestamp, TimestampType.CreateTime),
        Headers = new Headers
        {
            { JobHeader, tag },
            { TopicHeader, Encoding.UTF8.GetBytes(record.Topic) },
            { PartitionHeader, Int32(record.Partition) },
            { OffsetHeader, Int64(record.Offset) },
        },
    };

    public static Message<byte[]?, byte[]> Watermark(byte[] tag, SourcePartition source, long maxTimestamp, long now) => new()
    {
        Key = null,
        Value = [],
        Timestamp = new Timestamp(now, TimestampType.CreateTime),
        Headers = new Headers
        {
            { JobHeader, tag },
            { TopicHeader, Encoding.UTF8.GetBytes(source.Topic) },
            { PartitionHeader, Int32(source.Partition) },
            { WatermarkHeader, Int64(maxTimestamp) },
        },
    };

    /// <summary>Reads a record of this job's definition; false for anything else.</summary>
    public static bool TryRead(Message<byte[]?, byte[]> message, byte[] tag, out Routed routed)
    {
        routed = default;
        var headers = message.Headers;
        if (headers is null
            || !headers.TryGetLastBytes(JobHeader, out var job) || !job.AsSpan().SequenceEqual(tag)
            || !headers.TryGetLastBytes(TopicHeader, out var topic)
            || !headers.TryGetLastBytes(PartitionHeader, out var partition) || partition.Length != 4)
        {
            return false;
        }
        var source = new SourcePartition(Encoding.UTF8.GetString(topic), BinaryPrimitives.ReadInt32BigEndian(partition));
        if (headers.TryGetLastBytes(WatermarkHeader, out var watermark) && watermark.Length == 8)
        {
            routed = new Routed(source, -1, BinaryPrimitives.ReadInt64BigEndian(watermark), IsWatermark: true);
            return true;
        }
        if (headers.TryGetLastBytes(OffsetHeader, out var offset) && offset.Length == 8)
        {
            routed = new Routed(source, BinaryPrimitives.ReadInt64BigEndian(offset), message.Timestamp.UnixTimestampMs, IsWatermark: false);
            return true;
        }
        return false;
    }

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

    /// <summary>A data record's source and offset and timestamp, or a watermark record's source and largest event time.</summary>
    internal readonly record struct Routed(SourcePartition Source, long Offset, long Timestamp, bool IsWatermark);
}
