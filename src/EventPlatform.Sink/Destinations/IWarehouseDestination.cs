using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Destinations;

/// <summary>One partition's next offset, as stored in the warehouse for a cluster.</summary>
public readonly record struct StoredOffset(string Topic, int Partition, long NextOffset);

/// <summary>The offsets a warehouse holds: this cluster's, and the ids of other clusters it has offsets for.</summary>
public sealed record WarehouseOffsets(IReadOnlyList<StoredOffset> Offsets, IReadOnlyList<string> OtherClusters);

/// <summary>
/// A warehouse the sink writes to (DuckDB here; Snowflake's SQL API or Snowpipe Streaming next).
/// Every implementation passes the same compliance suite.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="WriteAsync"/> writes rows idempotently (upsert on <c>event_id</c>; on the window
/// identity for <c>aggregated_events</c>) and the partitions' next offsets in the SAME transaction,
/// tagged with the Kafka cluster's id: after a crash at any point the warehouse holds either the
/// rows and their offsets or neither, and the sink resumes from <see cref="ReadOffsetsAsync"/>.
/// </para>
/// <para>
/// Failures are told apart by <see cref="DestinationException.Kind"/>: rows the warehouse refuses
/// (they go to the DLQ after the retries) versus a warehouse that is unavailable (the sink pauses;
/// good rows never go to the DLQ for an outage). Implementations are thread-safe.
/// </para>
/// </remarks>
public interface IWarehouseDestination : IAsyncDisposable
{
    /// <summary>A name for logs and metrics (<c>duckdb</c>, <c>snowflake</c>).</summary>
    string Name { get; }

    /// <summary>Creates the tables if needed (the seed's DDL in the warehouse's types).</summary>
    Task EnsureTablesAsync(CancellationToken cancellationToken);

    /// <summary>The stored offsets of <paramref name="clusterId"/>'s partitions, and which other clusters have some.</summary>
    Task<WarehouseOffsets> ReadOffsetsAsync(string clusterId, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="rows"/> and <paramref name="offsets"/> in one transaction.</summary>
    /// <exception cref="DestinationException">Nothing was written.</exception>
    Task WriteAsync(string clusterId, IReadOnlyList<WarehouseRow> rows, IReadOnlyList<StoredOffset> offsets, CancellationToken cancellationToken);

    /// <summary>Whether the warehouse answers (readiness).</summary>
    Task<bool> IsAvailableAsync(CancellationToken cancellationToken);
}

/// <summary>What kind of write failure it is: the rows' fault or the warehouse's.</summary>
public enum DestinationErrorKind
{
    /// <summary>The warehouse is away, busy or failing (connection, I/O, throttling, conflicts): try again later; never the DLQ.</summary>
    Unavailable,

    /// <summary>The warehouse refuses the rows themselves (conversion, constraint): after the retries, the bad ones go to the DLQ.</summary>
    RowsRejected,
}

/// <summary>A write that did not happen, with its kind.</summary>
public sealed class DestinationException(DestinationErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public DestinationErrorKind Kind { get; } = kind;
}
