using System.Buffers.Binary;
using System.Text;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>What an entry of the idempotency log says about its key.</summary>
public enum IdempotencyEntryType : byte
{
    /// <summary>A request wants the key; the first claim in log order on a free key wins.</summary>
    Claim = 1,

    /// <summary>The winning claim's event is in Kafka; here is where.</summary>
    Done = 2,

    /// <summary>The winning claim's event was certainly not written: the key is free again.</summary>
    Abort = 3,

    /// <summary>The winning claim's publish may or may not have written the event: the key stays held until a reader resolves it.</summary>
    InDoubt = 4,
}

/// <summary>
/// One entry of the idempotency log. Many entries share one Kafka record (<see cref="IdempotencyCodec"/>).
/// </summary>
/// <param name="Type">Claim, done, abort or in doubt.</param>
/// <param name="Key">The scoped key's 128-bit hash (subject and client key, <see cref="IdempotencyKeys.Key"/>).</param>
/// <param name="ClaimId">Which claim: done, abort and in-doubt refer to the claim they settle.</param>
/// <param name="AtMs">When it was written (Unix ms, the writer's clock); expiry is judged from these only, so every instance agrees.</param>
/// <param name="Fingerprint">Claim: the event's 128-bit fingerprint (<see cref="EventFingerprint"/>).</param>
/// <param name="Topic">Claim: the target topic (where a resolver looks for the event). Done: the event's topic.</param>
/// <param name="Partition">Done: the event's partition.</param>
/// <param name="Offset">Done: the event's offset.</param>
/// <param name="AcknowledgedAtTicks">Done: when Kafka acknowledged the event (UTC ticks: the replay repeats it exactly).</param>
public readonly record struct IdempotencyEntry(
    IdempotencyEntryType Type,
    UInt128 Key,
    UInt128 ClaimId,
    long AtMs,
    UInt128 Fingerprint = default,
    string? Topic = null,
    int Partition = -1,
    long Offset = -1,
    long AcknowledgedAtTicks = 0)
{
    public static IdempotencyEntry Claim(UInt128 key, UInt128 claimId, long atMs, UInt128 fingerprint, string topic) =>
        new(IdempotencyEntryType.Claim, key, claimId, atMs, fingerprint, topic);

    public static IdempotencyEntry Done(UInt128 key, UInt128 claimId, long atMs, string topic, int partition, long offset, long acknowledgedAtMs) =>
        new(IdempotencyEntryType.Done, key, claimId, atMs, default, topic, partition, offset, acknowledgedAtMs);

    public static IdempotencyEntry Abort(UInt128 key, UInt128 claimId, long atMs) => new(IdempotencyEntryType.Abort, key, claimId, atMs);

    public static IdempotencyEntry InDoubt(UInt128 key, UInt128 claimId, long atMs) => new(IdempotencyEntryType.InDoubt, key, claimId, atMs);
}

/// <summary>
/// The binary form of a record of the idempotency topic: many entries per record (group commit).
/// </summary>
/// <remarks>
/// Layout, little-endian: magic <c>0xE1</c>, version <c>1</c>, entry count (u16), then each entry:
/// type (u8), key (16), claim id (16), at (i64 ms); a claim adds the fingerprint (16) and the target
/// topic (u8 length, UTF-8); a done adds the topic (u8 length, UTF-8), partition (i32), offset (i64)
/// and acknowledged-at (i64 UTC ticks); abort and in-doubt add nothing. Kafka topic names are at most 249
/// bytes, so one length byte is enough. A record that is not ours, of another version or cut short
/// decodes to nothing: it is skipped, never applied in part, and never throws.
/// </remarks>
public static class IdempotencyCodec
{
    public const byte Magic = 0xE1;
    public const byte Version = 1;
    private const int HeaderSize = 4;
    private const int CommonSize = 1 + 16 + 16 + 8;

    /// <summary>Most entries in one record (keeps a record far below Kafka's 1 MB limit).</summary>
    public const int MaxEntriesPerRecord = 1000;

    /// <summary>The encoded size of <paramref name="entry"/>.</summary>
    public static int SizeOf(in IdempotencyEntry entry) => CommonSize + entry.Type switch
    {
        IdempotencyEntryType.Claim => 16 + 1 + Encoding.UTF8.GetByteCount(entry.Topic ?? ""),
        IdempotencyEntryType.Done => 1 + Encoding.UTF8.GetByteCount(entry.Topic ?? "") + 4 + 8 + 8,
        _ => 0,
    };

    /// <summary>Encodes up to <see cref="MaxEntriesPerRecord"/> entries as one record value.</summary>
    public static byte[] Encode(ReadOnlySpan<IdempotencyEntry> entries)
    {
        if (entries.Length > MaxEntriesPerRecord)
        {
            throw new ArgumentOutOfRangeException(nameof(entries), $"At most {MaxEntriesPerRecord} entries fit in one record.");
        }

        var size = HeaderSize;
        foreach (ref readonly var e in entries)
        {
            size += SizeOf(e);
        }

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = Magic;
        span[1] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)entries.Length);
        var at = HeaderSize;
        foreach (ref readonly var e in entries)
        {
            span[at++] = (byte)e.Type;
            BinaryPrimitives.WriteUInt128LittleEndian(span[at..], e.Key);
            BinaryPrimitives.WriteUInt128LittleEndian(span[(at + 16)..], e.ClaimId);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 32)..], e.AtMs);
            at += 40;
            switch (e.Type)
            {
                case IdempotencyEntryType.Claim:
                    BinaryPrimitives.WriteUInt128LittleEndian(span[at..], e.Fingerprint);
                    at = WriteTopic(span, at + 16, e.Topic);
                    break;
                case IdempotencyEntryType.Done:
                    at = WriteTopic(span, at, e.Topic);
                    BinaryPrimitives.WriteInt32LittleEndian(span[at..], e.Partition);
                    BinaryPrimitives.WriteInt64LittleEndian(span[(at + 4)..], e.Offset);
                    BinaryPrimitives.WriteInt64LittleEndian(span[(at + 12)..], e.AcknowledgedAtTicks);
                    at += 20;
                    break;
            }
        }

        return buffer;
    }

    private static int WriteTopic(Span<byte> span, int at, string? topic)
    {
        var length = Encoding.UTF8.GetBytes(topic ?? "", span[(at + 1)..]);
        if (length > byte.MaxValue)
        {
            throw new ArgumentException("A Kafka topic name is at most 249 bytes long.", nameof(topic));
        }

        span[at] = (byte)length;
        return at + 1 + length;
    }

    /// <summary>
    /// Decodes a record value into <paramref name="entries"/> (appended). False, with nothing
    /// appended, when the bytes are not a whole record of this version.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> value, List<IdempotencyEntry> entries, Func<ReadOnlySpan<byte>, string>? topicName = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (value.Length < HeaderSize || value[0] != Magic || value[1] != Version)
        {
            return false;
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(value[2..]);
        var start = entries.Count;
        var at = HeaderSize;
        for (var i = 0; i < count; i++)
        {
            if (!TryDecodeOne(value, ref at, topicName, out var entry))
            {
                entries.RemoveRange(start, entries.Count - start);
                return false;
            }

            entries.Add(entry);
        }

        if (at != value.Length)
        {
            entries.RemoveRange(start, entries.Count - start);
            return false;
        }

        return true;
    }

    private static bool TryDecodeOne(ReadOnlySpan<byte> value, ref int at, Func<ReadOnlySpan<byte>, string>? topicName, out IdempotencyEntry entry)
    {
        entry = default;
        if (value.Length - at < CommonSize)
        {
            return false;
        }

        var type = (IdempotencyEntryType)value[at];
        var key = BinaryPrimitives.ReadUInt128LittleEndian(value[(at + 1)..]);
        var claimId = BinaryPrimitives.ReadUInt128LittleEndian(value[(at + 17)..]);
        var atMs = BinaryPrimitives.ReadInt64LittleEndian(value[(at + 33)..]);
        at += CommonSize;
        switch (type)
        {
            case IdempotencyEntryType.Claim:
                if (value.Length - at < 17)
                {
                    return false;
                }

                var fingerprint = BinaryPrimitives.ReadUInt128LittleEndian(value[at..]);
                at += 16;
                if (!TryReadTopic(value, ref at, topicName, out var target))
                {
                    return false;
                }

                entry = IdempotencyEntry.Claim(key, claimId, atMs, fingerprint, target);
                return true;

            case IdempotencyEntryType.Done:
                if (!TryReadTopic(value, ref at, topicName, out var topic) || value.Length - at < 20)
                {
                    return false;
                }

                entry = IdempotencyEntry.Done(key, claimId, atMs, topic,
                    BinaryPrimitives.ReadInt32LittleEndian(value[at..]),
                    BinaryPrimitives.ReadInt64LittleEndian(value[(at + 4)..]),
                    BinaryPrimitives.ReadInt64LittleEndian(value[(at + 12)..]));
                at += 20;
                return true;

            case IdempotencyEntryType.Abort:
            case IdempotencyEntryType.InDoubt:
                entry = new IdempotencyEntry(type, key, claimId, atMs);
                return true;

            default:
                return false;
        }
    }

    private static bool TryReadTopic(ReadOnlySpan<byte> value, ref int at, Func<ReadOnlySpan<byte>, string>? topicName, out string topic)
    {
        topic = "";
        if (value.Length - at < 1)
        {
            return false;
        }

        var length = value[at];
        if (value.Length - at - 1 < length)
        {
            return false;
        }

        var bytes = value.Slice(at + 1, length);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        topic = topicName?.Invoke(bytes) ?? Encoding.UTF8.GetString(bytes);
        at += 1 + length;
        return true;
    }
}
