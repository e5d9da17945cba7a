using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Buffering;

/// <summary>When a partition's buffer is flushed (the seed's connector keys).</summary>
/// <param name="CountRecords"><c>buffer.count.records</c>: flushed when it holds this many records.</param>
/// <param name="SizeBytes"><c>buffer.size.bytes</c>: flushed when its bytes exceed this.</param>
/// <param name="FlushTime"><c>buffer.flush.time</c>: flushed when its oldest record has waited this long.</param>
public sealed record FlushPolicy(int CountRecords, long SizeBytes, TimeSpan FlushTime);

/// <summary>Why a buffer is flushed.</summary>
public enum FlushReason
{
    None,
    Count,
    Size,
    Time,
    Shutdown,
}

/// <summary>
/// Property 17: one partition's records waiting for the warehouse. It is due for a flush when it
/// reaches <see cref="FlushPolicy.CountRecords"/>, when its bytes exceed
/// <see cref="FlushPolicy.SizeBytes"/>, or when <see cref="FlushPolicy.FlushTime"/> has passed since
/// its first record, whichever comes first.
/// </summary>
/// <remarks>
/// It also tracks the partition's next offset, which moves past records that made no row (sent to
/// the DLQ), so that the offset written with the next batch skips them. Not thread-safe: one
/// partition belongs to one consume loop.
/// </remarks>
public sealed class PartitionBuffer(FlushPolicy policy)
{
    private List<WarehouseRow> _rows = [];
    private long _bytes;
    private DateTimeOffset? _firstAt;

    /// <summary>The offset to resume from once what is buffered is written (-1 before the first record).</summary>
    public long NextOffset { get; private set; } = -1;

    /// <summary>Whether an offset moved past that no write has stored yet (rows, or records sent to the DLQ).</summary>
    public bool HasUnwrittenProgress { get; private set; }

    public int Count => _rows.Count;

    public long Bytes => _bytes;

    /// <summary>Adds a row read at <paramref name="now"/>.</summary>
    public void Add(WarehouseRow row, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        _rows.Add(row);
        _bytes += row.SizeBytes;
        _firstAt ??= now;
        Advance(row.Source.Offset, now);
    }

    /// <summary>Moves past a record that made no row (it went to the DLQ).</summary>
    public void Advance(long offset, DateTimeOffset now)
    {
        NextOffset = Math.Max(NextOffset, offset + 1);
        HasUnwrittenProgress = true;
        // A skipped record's offset must reach the warehouse too, within the flush time.
        _firstAt ??= now;
    }

    /// <summary>Why the buffer is due at <paramref name="now"/>, or <see cref="FlushReason.None"/>.</summary>
    public FlushReason Due(DateTimeOffset now)
    {
        if (_rows.Count >= policy.CountRecords)
        {
            return FlushReason.Count;
        }

        if (_bytes > policy.SizeBytes)
        {
            return FlushReason.Size;
        }

        return HasUnwrittenProgress && _firstAt is { } first && now - first >= policy.FlushTime ? FlushReason.Time : FlushReason.None;
    }

    /// <summary>Takes every buffered row (and the offset to store with them) and empties the buffer.</summary>
    public (List<WarehouseRow> Rows, long NextOffset) Drain()
    {
        var rows = _rows;
        _rows = [];
        _bytes = 0;
        _firstAt = null;
        HasUnwrittenProgress = false;
        return (rows, NextOffset);
    }
}
