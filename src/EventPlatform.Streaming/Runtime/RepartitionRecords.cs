using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Streaming.DataStream;

namespace EventPlatform.Streaming.Runtime;

/// <summary>
/// The records of a repartition topic. A batch record carries source records as read (key, value and
/// timestamp unchanged), each with where it came from; a watermark record says how far event time has
/// come in source partitions. Both carry a tag of the job's fingerprint, so records left by another
/// definition of the job are skipped rather than applied.
/// </summary>
/// <remarks>
/// Written in format 2: one header <c>ep.r</c> whose value is, big-endian, a format byte (2), a kind
/// byte, the tag's length and bytes, then for a watermark record a count (int32) and per source
/// partition its number (int32), its largest event time (int64), its topic's length (uint16) and its
/// topic; one watermark record per repartition partition carries every source partition read since
/// the last broadcast. A batch record (kind 2) has nothing more in its header; its value is a table
/// of the job's source topics (a count byte, then per topic its length (uint16) and UTF-8 name), the
/// number of source records (int32), then per source record its topic's index in the table (byte),
/// partition (int32), offset (int64), timestamp (int64), key length (int32, -1 for none) and key,
/// value length (int32) and value. One batch stands for many Kafka records, so the per-record cost of
/// the client, the broker and the consumer is paid once per batch (README, processor).
/// Still read: a data record (kind 0: one source record as the Kafka record's key and value, with its
/// source partition (int32), offset (int64) and topic after the tag), written by the versions before
/// batches; and format 1, four headers per record (<c>ep.job</c>, <c>ep.src.topic</c>,
/// <c>ep.src.partition</c>, <c>ep.src.offset</c> or <c>ep.src.max-time</c>) and one watermark record
/// per source partition. A record of a later format or kind is refused, never guessed at.
/// </remarks>
internal sealed class RepartitionRecords
{
    private const string RecordHeader = "ep.r";
    private const byte Format = 2;
    private const byte DataKind = 0;
    private const byte WatermarkKind = 1;
    private const byte BatchKind = 2;

    // Per item in a batch: topic index, partition, offset, timestamp, key length, value length.
    private const int ItemOverhead = 1 + 4 + 8 + 8 + 4 + 4;

    private const string JobHeader = "ep.job";
    private const string TopicHeader = "ep.src.topic";
    private const string PartitionHeader = "ep.src.partition";
    private const string OffsetHeader = "ep.src.offset";
    private const string WatermarkHeader = "ep.src.max-time";

    private readonly (byte[] Utf8, string Name)[] _topics;
    private readonly byte[] _batchHeader;
    private readonly byte[] _topicTable;
    private readonly List<BatchItem> _items = [];
    private string[] _itemTopics = [];

    /// <param name="tag">The job's tag (<see cref="Tag"/>).</param>
    /// <param name="sourceTopics">The job's source topics: their names are read back without allocating.</param>
    public RepartitionRecords(byte[] tag, IEnumerable<string> sourceTopics)
    {
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tag.Length, byte.MaxValue, nameof(tag));
        TagBytes = tag;
        _topics = [.. sourceTopics.Select(t => (Encoding.UTF8.GetBytes(t), t))];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_topics.Length, byte.MaxValue, nameof(sourceTopics));
        _batchHeader = new byte[3 + tag.Length];
        Start(_batchHeader, BatchKind);
        var table = new ArrayBufferWriter<byte>();
        table.Write([(byte)_topics.Length]);
        foreach (var (utf8, _) in _topics)
        {
            BinaryPrimitives.WriteUInt16BigEndian(table.GetSpan(2), checked((ushort)utf8.Length));
            table.Advance(2);
            table.Write(utf8);
        }
        _topicTable = table.WrittenSpan.ToArray();
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

    /// <summary>A new, empty batch: a buffer that a routing stage fills for one repartition partition.</summary>
    public PendingBatch NewBatch() => new(_topicTable);

    /// <summary>Appends <paramref name="record"/> (of one of the job's source topics) to <paramref name="batch"/>.</summary>
    public void Append(PendingBatch batch, SourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(record);
        var index = TopicIndex(record.Topic);
        var keyLength = record.Key?.Length ?? 0;
        var span = batch.Reserve(ItemOverhead + keyLength + record.Value.Length);
        span[0] = (byte)index;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], record.Partition);
        BinaryPrimitives.WriteInt64BigEndian(span[5..], record.Offset);
        BinaryPrimitives.WriteInt64BigEndian(span[13..], record.Timestamp);
        BinaryPrimitives.WriteInt32BigEndian(span[21..], record.Key is null ? -1 : keyLength);
        record.Key?.CopyTo(span[25..]);
        BinaryPrimitives.WriteInt32BigEndian(span[(25 + keyLength)..], record.Value.Length);
        record.Value.CopyTo(span[(29 + keyLength)..]);
        batch.Added(record.Timestamp);
    }

    /// <summary>The batch's Kafka record (timestamped with its newest record's time); the batch is then empty again.</summary>
    public Message<byte[]?, byte[]> TakeBatch(PendingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var message = new Message<byte[]?, byte[]>
        {
            Key = null,
            Value = batch.ToArray(),
            Timestamp = new Timestamp(batch.NewestTimestamp, TimestampType.CreateTime),
            Headers = [new Header(RecordHeader, _batchHeader)],
        };
        batch.Clear();
        return message;
    }

    /// <summary>One source record as a record of its own (kind 0): what the versions before batches wrote.</summary>
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
            return ReadFormat2(value, message, out routed);
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

    private ReadOutcome ReadFormat2(byte[] value, Message<byte[]?, byte[]> message, out Routed routed)
    {
        routed = default;
        if (value.Length < 3 || value[0] != Format || value[1] is not (DataKind or WatermarkKind or BatchKind) || value.Length < 3 + value[2])
        {
            return ReadOutcome.UnknownFormat;
        }
        var tag = value.AsSpan(3, value[2]);
        if (!tag.SequenceEqual(TagBytes))
        {
            return ReadOutcome.Foreign;
        }
        var rest = value.AsSpan(3 + tag.Length);
        if (value[1] == BatchKind)
        {
            return rest.IsEmpty && message.Value is { } batch && ReadBatch(batch) ? Batched(batch, out routed) : ReadOutcome.UnknownFormat;
        }
        var timestamp = message.Timestamp.UnixTimestampMs;
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

    private ReadOutcome Batched(byte[] batch, out Routed routed)
    {
        routed = new Routed(default, -1, 0, null, _items, batch);
        return ReadOutcome.Read;
    }

    // Reads a whole batch into _items, or says it is malformed: a bad batch is refused whole, never
    // applied in part.
    private bool ReadBatch(byte[] batch)
    {
        _items.Clear();
        var span = batch.AsSpan();
        if (span.IsEmpty)
        {
            return false;
        }
        var count = span[0];
        if (_itemTopics.Length < count)
        {
            _itemTopics = new string[count];
        }
        var at = 1;
        for (var i = 0; i < count; i++)
        {
            if (span.Length - at < 2)
            {
                return false;
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(span[at..]);
            if (span.Length - at - 2 < length || SourceTopic(span.Slice(at + 2, length)) is not { } topic)
            {
                return false;
            }
            _itemTopics[i] = topic;
            at += 2 + length;
        }
        if (span.Length - at < 4)
        {
            return false;
        }
        var items = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
        at += 4;
        // Each record takes at least ItemOverhead bytes: a count beyond that is a bad record, not a loop.
        if (items <= 0 || items > (span.Length - at) / ItemOverhead)
        {
            return false;
        }
        for (var i = 0; i < items; i++)
        {
            var rest = span[at..];
            if (rest.Length < ItemOverhead || rest[0] >= count)
            {
                return false;
            }
            var partition = BinaryPrimitives.ReadInt32BigEndian(rest[1..]);
            var offset = BinaryPrimitives.ReadInt64BigEndian(rest[5..]);
            var keyLength = BinaryPrimitives.ReadInt32BigEndian(rest[21..]);
            var keyBytes = Math.Max(0, keyLength);
            if (partition < 0 || offset < 0 || keyLength < -1 || keyBytes > rest.Length - ItemOverhead)
            {
                return false;
            }
            var valueLength = BinaryPrimitives.ReadInt32BigEndian(rest[(25 + keyBytes)..]);
            if (valueLength < 0 || valueLength > rest.Length - ItemOverhead - keyBytes)
            {
                return false;
            }
            _items.Add(new BatchItem(new SourcePartition(_itemTopics[rest[0]], partition), offset, BinaryPrimitives.ReadInt64BigEndian(rest[13..]),
                at + 25, keyLength, at + 29 + keyBytes, valueLength));
            at += ItemOverhead + keyBytes + valueLength;
        }
        return at == span.Length;
    }

    private int TopicIndex(string topic)
    {
        for (var i = 0; i < _topics.Length; i++)
        {
            if (string.Equals(_topics[i].Name, topic, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new ArgumentException($"Topic '{topic}' is not a source of this job.", nameof(topic));
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
    /// a watermark record (<see cref="Watermarks"/> not null) the largest event time per source partition,
    /// or for a batch (<see cref="Batch"/> not null) its records, in the order written, over the bytes
    /// <see cref="BatchBytes"/> (valid until the next read).
    /// </summary>
    internal readonly record struct Routed(SourcePartition Source, long Offset, long Timestamp, IReadOnlyList<(SourcePartition Source, long MaxTimestamp)>? Watermarks,
        IReadOnlyList<BatchItem>? Batch = null, byte[]? BatchBytes = null)
    {
        public bool IsWatermark => Watermarks is not null;
    }

    /// <summary>One source record in a batch: where it came from, and where its key (length -1: none) and value lie in the batch's bytes.</summary>
    internal readonly record struct BatchItem(SourcePartition Source, long Offset, long Timestamp, int KeyStart, int KeyLength, int ValueStart, int ValueLength)
    {
        public SourceRecord ToRecord(byte[] batch) => new(Source.Topic, Source.Partition, Offset,
            KeyLength < 0 ? null : batch.AsSpan(KeyStart, KeyLength).ToArray(), batch.AsSpan(ValueStart, ValueLength).ToArray(), Timestamp);
    }

    /// <summary>The records routed to one repartition partition and not yet written, in one growing buffer.</summary>
    internal sealed class PendingBatch(byte[] topicTable)
    {
        private byte[] _buffer = [];
        private int _length;

        /// <summary>Source records in the batch.</summary>
        public int Count { get; private set; }

        /// <summary>Bytes the batch's record value will have.</summary>
        public int Length => _length;

        public long NewestTimestamp { get; private set; } = long.MinValue;

        public Span<byte> Reserve(int bytes)
        {
            if (_length == 0)
            {
                // The table, then the record count (written when the batch is taken).
                Ensure(topicTable.Length + 4 + bytes);
                topicTable.CopyTo(_buffer, 0);
                _length = topicTable.Length + 4;
            }
            Ensure(_length + bytes);
            var span = _buffer.AsSpan(_length, bytes);
            _length += bytes;
            return span;
        }

        public void Added(long timestamp)
        {
            Count++;
            NewestTimestamp = Math.Max(NewestTimestamp, timestamp);
        }

        public byte[] ToArray()
        {
            BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(topicTable.Length), Count);
            return _buffer.AsSpan(0, _length).ToArray();
        }

        public void Clear()
        {
            _length = 0;
            Count = 0;
            NewestTimestamp = long.MinValue;
        }

        private void Ensure(int bytes)
        {
            if (_buffer.Length < bytes)
            {
                Array.Resize(ref _buffer, Math.Max(bytes, Math.Max(4096, _buffer.Length * 2)));
            }
        }
    }
}
