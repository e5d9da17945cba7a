namespace EventPlatform.Sink.Transformation;

/// <summary>Where a record came from: its topic, partition and offset.</summary>
public readonly record struct RecordPosition(string Topic, int Partition, long Offset);

/// <summary>A row of one of the warehouse's tables, ready to write: every required column filled.</summary>
public abstract record WarehouseRow
{
    /// <summary>The record it was made from.</summary>
    public required RecordPosition Source { get; init; }

    /// <summary>The record's value as consumed: what the DLQ gets if the warehouse refuses the row.</summary>
    public required byte[] OriginalMessage { get; init; }

    /// <summary>Bytes the row holds (for <c>buffer.size.bytes</c>): the record's size as consumed.</summary>
    public required int SizeBytes { get; init; }
}

/// <summary>
/// A row of the seed's <c>events</c> table. <see cref="Payload"/> and <see cref="Metadata"/> are
/// JSON text (VARIANT in Snowflake, JSON in DuckDB); <see cref="Timestamp"/> and
/// <see cref="IngestionTime"/> are UTC (TIMESTAMP_NTZ holds UTC by the platform's convention).
/// </summary>
public sealed record EventRow : WarehouseRow
{
    public required string EventId { get; init; }

    public required DateTime Timestamp { get; init; }

    public required string EventType { get; init; }

    public string? UserId { get; init; }

    public string? DeviceId { get; init; }

    public required string Payload { get; init; }

    /// <summary>JSON text, or null when the event had none.</summary>
    public string? Metadata { get; init; }

    /// <summary>When the sink read it (the seed's column defaults to the load time).</summary>
    public required DateTime IngestionTime { get; init; }
}

/// <summary>
/// A row of the seed's <c>aggregated_events</c> table, plus the window identity columns
/// (<see cref="WindowKind"/>, <see cref="WindowSizeMs"/>, <see cref="WindowSlideMs"/>,
/// <see cref="WindowKey"/>): several window definitions share a <c>window_start</c>, so the seed's
/// key (<c>window_start</c>, <c>event_type</c>) alone would let one overwrite another.
/// </summary>
public sealed record AggregatedEventRow : WarehouseRow
{
    public required DateTime WindowStart { get; init; }

    public required DateTime WindowEnd { get; init; }

    public required string EventType { get; init; }

    public required long Count { get; init; }

    public double? SumValue { get; init; }

    public double? AvgValue { get; init; }

    public double? MinValue { get; init; }

    public double? MaxValue { get; init; }

    public required long DistinctUsers { get; init; }

    public required string WindowKind { get; init; }

    public required long WindowSizeMs { get; init; }

    public required long WindowSlideMs { get; init; }

    /// <summary>The key of keyed windows; empty (not null: it is part of the primary key) for windows per event type.</summary>
    public required string WindowKey { get; init; }

    public required bool IsUpdate { get; init; }

    public required DateTime ProcessedTime { get; init; }
}
