using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Streaming.DataStream;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// The records of a repartition topic. A data record is a source record as read (key, value and
/// timestamp unchanged) with where it came from; a watermark record says how far event time has
/// come in one source partition. Both carry a tag of the job's fingerprint, so records left by
/// another definition of the job are skipped rather than applied.
/// </summary>
/// <remarks>
/// Written in format 2: one header <c>ep.r</c> whose value is, big-endian, a format byte (2), a kind
/// byte, the tag's length and bytes, then for a data record the source partition (int32), the source
/// offset (int64) and the source topic in UTF-8 to the end; for a watermark record a count (int32) and
/// per source partition its number (int32), its largest event time (int64), its topic's length (uint16)
/// and its topic. One watermark record per repartition partition carries every source partition read
/// since the last broadcast. Format 1 (versions before) wrote four headers per record (<c>ep.job</c>,
/// <c>ep.src.topic</c>, <c>ep.src.partition</c>, <c>ep.src.offset</c> or <c>ep.src.max-time</c>) and
/// one watermark record per source partition; its records are still read. A record of a later format is
/// refused, never guessed at.
/// </remarks>
internal sealed class RepartitionRecords
{
    private const string RecordHeader = "ep.r";
    private const byte Format = 2;
    private const byte DataKind = 0;
    private const byte WatermarkKind = 1;

    private const string JobHeader = "ep.job";
    private const string TopicHeader = "ep.src.topic";
    private const string PartitionHeader = "ep.src.partition";
    private const string OffsetHeader = "ep.src.offset";
    private const string WatermarkHeader = "ep.src.max-time";

    private readonly (byte[] Utf8, string Name)[] _topics;

    /// <param name="tag">The job's tag (<see cref="Tag"/>).</param>
    /// <param name="sourceTopics">The job's source topics: their names are read back without allocating.</param>
    public RepartitionRecords(byte[] tag, IEnumerable<string> sourceTopics)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tag.Length, byte.MaxValue, nameof(tag));
        TagBytes = tag;
        _topics = [.. sourceTopics.Select(t => (Encoding.UTF8.GetBytes(t), t))];
    }

    /// <summary>How a record of the repartition topic was read.</summary>
    internal enum ReadOutcome
    {
        /// <summary>A record of this job's definition: <see cref="Routed"/> holds it.</summary>
        Read,

        /// <summary>A record of another definition of the job (or not one of ours at all): skipped.</summary>
        Foreign,

        /// <summary>
        /// A record this version cannot read (a later version's format, or one under this job's tag that is
        /// malformed or names a topic that is not a source: forged or corrupt): refused, never guessed at.
        /// </summary>
        UnknownFormat,
    }

    public byte[] TagBytes { get; }

    /// <summary>The first 16 hex digits of the fingerprint: enough to tell definitions apart.</summary>
    public static byte[] Tag(string fingerprint) => Encoding.ASCII.GetBytes(fingerprint[..Math.Min(16, fingerprint.Length)]);

    public Message<byte[]?, byte[]> Data(SourceRecord record) => new()
    {
        Key = record.Key,
        Value = record.Value,
        Timestamp = new Timestamp(record.Timestamp, TimestampType.CreateTime),
        Headers = [new Header(RecordHeader, EncodeData(record))],
    };

    /// <summary>One watermark record for the largest event time of each of <paramref name="sources"/> (at least one).</summary>
    public Message<byte[]?, byte[]> Watermarks(IReadOnlyList<(SourcePartition Source, long MaxTimestamp)> sources, long now)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sources.Count);
        var length = 3 + TagBytes.Length + 4;
        foreach (var (source, _) in sources)
        {
            length += 4 + 8 + 2 + Encoding.UTF8.GetByteCount(source.Topic);
        }
        var bytes = new byte[length];
        var at = Start(bytes, WatermarkKind);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), sources.Count);
        at += 4;
        foreach (var (source, max) in sources)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), source.Partition);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 4), max);
            var written = Encoding.UTF8.GetBytes(source.Topic, bytes.AsSpan(at + 14));
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + 12), checked((ushort)written));
            at += 14 + written;
        }
        return new Message<byte[]?, byte[]>
        {
            Key = null,
            Value = [],
            Timestamp = new Timestamp(now, TimestampType.CreateTime),
            Headers = [new Header(RecordHeader, bytes)],
        };
    }

    /// <summary>Reads a record of the repartition topic; <paramref name="routed"/> is set when the outcome is <see cref="ReadOutcome.Read"/>.</summary>
    public ReadOutcome TryRead(Message<byte[]?, byte[]> message, out Routed routed)
    {
        routed = default;
        var headers = message.Headers;
        if (headers is null)
        {
            return ReadOutcome.Foreign;
        }
        if (headers.TryGetLastBytes(RecordHeader, out var value))
        {
            return ReadFormat2(value, message.Timestamp.UnixTimestampMs, out routed);
        }
        return headers.TryGetLastBytes(JobHeader, out _) ? ReadFormat1(message, headers, out routed) : ReadOutcome.Foreign;
    }

    private byte[] EncodeData(SourceRecord record)
    {
        var bytes = new byte[3 + TagBytes.Length + 12 + Encoding.UTF8.GetByteCount(record.Topic)];
        var at = Start(bytes, DataKind);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), record.Partition);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 4), record.Offset);
        Encoding.UTF8.GetBytes(record.Topic, bytes.AsSpan(at + 12));
        return bytes;
    }

    private int Start(byte[] bytes, byte kind)
    {
        bytes[0] = Format;
        bytes[1] = kind;
        bytes[2] = (byte)TagBytes.Length;
        TagBytes.CopyTo(bytes, 3);
        return 3 + TagBytes.Length;
    }

    private ReadOutcome ReadFormat2(byte[] value, long timestamp, out Routed routed)
    {
        routed = default;
        if (value.Length < 3 || value[0] != Format || value[1] is not (DataKind or WatermarkKind) || value.Length < 3 + value[2])
        {
            return ReadOutcome.UnknownFormat;
        }
        var tag = value.AsSpan(3, value[2]);
        if (!tag.SequenceEqual(TagBytes))
        {
            return ReadOutcome.Foreign;
        }
        var rest = value.AsSpan(3 + tag.Length);
        if (value[1] == DataKind)
        {
            if (rest.Length < 12 || SourceTopic(rest[12..]) is not { } topic)
            {
                return ReadOutcome.UnknownFormat;
            }
            var source = new SourcePartition(topic, BinaryPrimitives.ReadInt32BigEndian(rest));
            routed = new Routed(source, BinaryPrimitives.ReadInt64BigEndian(rest[4..]), timestamp, null);
            return ReadOutcome.Read;
        }
        if (rest.Length < 4)
        {
            return ReadOutcome.UnknownFormat;
        }
        var count = BinaryPrimitives.ReadInt32BigEndian(rest);
        rest = rest[4..];
        // Each entry takes at least 14 bytes: a count beyond that is a bad record, not an allocation.
        if (count <= 0 || count > rest.Length / 14)
        {
            return ReadOutcome.UnknownFormat;
        }
        var watermarks = new (SourcePartition Source, long MaxTimestamp)[count];
        for (var i = 0; i < count; i++)
        {
            if (rest.Length < 14)
            {
                return ReadOutcome.UnknownFormat;
            }
            var topicLength = BinaryPrimitives.ReadUInt16BigEndian(rest[12..]);
            if (rest.Length < 14 + topicLength || SourceTopic(rest.Slice(14, topicLength)) is not { } topic)
            {
                return ReadOutcome.UnknownFormat;
            }
            watermarks[i] = (new SourcePartition(topic, BinaryPrimitives.ReadInt32BigEndian(rest)), BinaryPrimitives.ReadInt64BigEndian(rest[4..]));
            rest = rest[(14 + topicLength)..];
        }
        if (!rest.IsEmpty)
        {
            return ReadOutcome.UnknownFormat;
        }
        routed = new Routed(default, -1, 0, watermarks);
        return ReadOutcome.Read;
    }

    // Format 1, as versions before format 2 wrote it: four headers.
    private ReadOutcome ReadFormat1(Message<byte[]?, byte[]> message, Headers headers, out Routed routed)
    {
        routed = default;
        if (!headers.TryGetLastBytes(JobHeader, out var job) || !job.AsSpan().SequenceEqual(TagBytes)
            || !headers.TryGetLastBytes(TopicHeader, out var topic)
            || !headers.TryGetLastBytes(PartitionHeader, out var partition) || partition.Length != 4)
        {
            return ReadOutcome.Foreign;
        }
        if (SourceTopic(topic) is not { } topicName)
        {
            return ReadOutcome.UnknownFormat;
        }
        var source = new SourcePartition(topicName, BinaryPrimitives.ReadInt32BigEndian(partition));
        if (headers.TryGetLastBytes(WatermarkHeader, out var watermark) && watermark.Length == 8)
        {
            routed = new Routed(default, -1, 0, [(source, BinaryPrimitives.ReadInt64BigEndian(watermark))]);
            return ReadOutcome.Read;
        }
        if (headers.TryGetLastBytes(OffsetHeader, out var offset) && offset.Length == 8)
        {
            routed = new Routed(source, BinaryPrimitives.ReadInt64BigEndian(offset), message.Timestamp.UnixTimestampMs, null);
            return ReadOutcome.Read;
        }
        return ReadOutcome.Foreign;
    }

    // A record under this job's tag names one of its sources (the tag covers them); any other name is a
    // forged or corrupt record, refused rather than given state of its own.
    private string? SourceTopic(ReadOnlySpan<byte> utf8)
    {
        foreach (var (bytes, name) in _topics)
        {
            if (utf8.SequenceEqual(bytes))
            {
                return name;
            }
        }
        return null;
    }

    /// <summary>
    /// A data record's source, offset and timestamp (the record's own, as read from the source), or for
    /// a watermark record (<see cref="Watermarks"/> not null) the largest event time per source partition.
    /// </summary>
    internal readonly record struct Routed(SourcePartition Source, long Offset, long Timestamp, IReadOnlyList<(SourcePartition Source, long MaxTimestamp)>? Watermarks)
    {
        public bool IsWatermark => Watermarks is not null;
    }
}
