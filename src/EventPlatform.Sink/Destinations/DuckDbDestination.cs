using System.Data;
using System.Data.Common;
using DuckDB.NET.Data;
using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Destinations;

/// <summary>
/// The embedded default warehouse: a DuckDB file (under the data directory) with the seed's tables in
/// DuckDB's types (JSON for VARIANT, TIMESTAMP for TIMESTAMP_NTZ) and the sink's offsets table.
/// </summary>
/// <remarks>
/// One connection, writes serialised by a semaphore: DuckDB lets one process write a file, and one
/// transaction at a time avoids write-write conflicts between tasks on the same keys. Rows are
/// upserted (<c>INSERT ... ON CONFLICT DO UPDATE</c>) so a replay after a crash writes the same rows
/// again instead of new ones. Thread-safe.
/// </remarks>
public sealed class DuckDbDestination : IWarehouseDestination
{
    /// <summary>The seed's tables with DuckDB's types, plus the offsets the sink stores with its rows.</summary>
    public const string Ddl = """
        CREATE TABLE IF NOT EXISTS events (
            event_id VARCHAR(255) PRIMARY KEY,
            "timestamp" TIMESTAMP,
            event_type VARCHAR(100),
            user_id VARCHAR(255),
            device_id VARCHAR(255),
            payload JSON,
            metadata JSON,
            ingestion_time TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE IF NOT EXISTS aggregated_events (
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP,
            event_type VARCHAR(100) NOT NULL,
            count BIGINT,
            sum_value DOUBLE,
            avg_value DOUBLE,
            min_value DOUBLE,
            max_value DOUBLE,
            distinct_users BIGINT,
            processed_time TIMESTAMP DEFAULT current_timestamp,
            window_kind VARCHAR(20) NOT NULL,
            window_size_ms BIGINT NOT NULL,
            window_slide_ms BIGINT NOT NULL,
            window_key VARCHAR NOT NULL,
            is_update BOOLEAN,
            PRIMARY KEY (window_start, event_type, window_kind, window_size_ms, window_slide_ms, window_key)
        );
        CREATE TABLE IF NOT EXISTS sink_offsets (
            cluster_id VARCHAR NOT NULL,
            topic VARCHAR NOT NULL,
            "partition" INTEGER NOT NULL,
            next_offset BIGINT NOT NULL,
            updated_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (cluster_id, topic, "partition")
        );
        """;

    private const string UpsertEvent = """
        INSERT INTO events (event_id, "timestamp", event_type, user_id, device_id, payload, metadata, ingestion_time)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (event_id) DO UPDATE SET "timestamp" = excluded."timestamp", event_type = excluded.event_type,
            user_id = excluded.user_id, device_id = excluded.device_id, payload = excluded.payload, metadata = excluded.metadata
        """;

    // A late update replaces the earlier result of the same window.
    private const string UpsertAggregate = """
        INSERT INTO aggregated_events (window_start, window_end, event_type, count, sum_value, avg_value, min_value, max_value,
            distinct_users, processed_time, window_kind, window_size_ms, window_slide_ms, window_key, is_update)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        ON CONFLICT (window_start, event_type, window_kind, window_size_ms, window_slide_ms, window_key) DO UPDATE SET
            window_end = excluded.window_end, count = excluded.count, sum_value = excluded.sum_value, avg_value = excluded.avg_value,
            min_value = excluded.min_value, max_value = excluded.max_value, distinct_users = excluded.distinct_users,
            processed_time = excluded.processed_time, is_update = excluded.is_update
        """;

    private const string UpsertOffset = """
        INSERT INTO sink_offsets (cluster_id, topic, "partition", next_offset, updated_at) VALUES ($1, $2, $3, $4, current_timestamp)
        ON CONFLICT (cluster_id, topic, "partition") DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at
        """;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DuckDBConnection _connection;

    /// <summary>Opens (creating it if needed) the database file at <paramref name="path"/>.</summary>
    public DuckDbDestination(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(Path) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        _connection = new DuckDBConnection("Data Source=" + Path);
    }

    public string Name => "duckdb";

    /// <summary>The database file.</summary>
    public string Path { get; }

    public async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OpenIfClosed();
            using var command = _connection.CreateCommand();
            command.CommandText = Ddl;
            command.ExecuteNonQuery();
        }
        catch (DuckDBException e)
        {
            throw Classify(e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<WarehouseOffsets> ReadOffsetsAsync(string clusterId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OpenIfClosed();
            var offsets = new List<StoredOffset>();
            var others = new SortedSet<string>(StringComparer.Ordinal);
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT cluster_id, topic, \"partition\", next_offset FROM sink_offsets";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var cluster = reader.GetString(0);
                if (cluster == clusterId)
                {
                    offsets.Add(new StoredOffset(reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3)));
                }
                else
                {
                    others.Add(cluster);
                }
            }

            return new WarehouseOffsets(offsets, [.. others]);
        }
        catch (DuckDBException e)
        {
            throw Classify(e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task WriteAsync(string clusterId, IReadOnlyList<WarehouseRow> rows, IReadOnlyList<StoredOffset> offsets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(offsets);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        DbTransaction? transaction = null;
        try
        {
            OpenIfClosed();
            transaction = _connection.BeginTransaction();
            using var events = Prepared(UpsertEvent, 8);
            using var aggregates = Prepared(UpsertAggregate, 15);
            foreach (var row in rows)
            {
                switch (row)
                {
                    case EventRow e:
                        Execute(events, e.EventId, e.Timestamp, e.EventType, e.UserId, e.DeviceId, e.Payload, e.Metadata, e.IngestionTime);
                        break;
                    case AggregatedEventRow a:
                        Execute(aggregates, a.WindowStart, a.WindowEnd, a.EventType, a.Count, a.SumValue, a.AvgValue, a.MinValue, a.MaxValue,
                            a.DistinctUsers, a.ProcessedTime, a.WindowKind, a.WindowSizeMs, a.WindowSlideMs, a.WindowKey, a.IsUpdate);
                        break;
                    default:
                        throw new ArgumentException($"No table for a {row.GetType().Name}.", nameof(rows));
                }
            }

            using var offsetCommand = Prepared(UpsertOffset, 4);
            foreach (var offset in offsets)
            {
                Execute(offsetCommand, clusterId, offset.Topic, offset.Partition, offset.NextOffset);
            }

            transaction.Commit();
        }
        catch (DuckDBException e)
        {
            TryRollback(transaction);
            throw Classify(e);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            TryRollback(transaction);
            throw new DestinationException(DestinationErrorKind.Unavailable, "DuckDB could not be written: " + e.Message, e);
        }
        finally
        {
            transaction?.Dispose();
            _gate.Release();
        }
    }

    public async Task<bool> IsAvailableAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OpenIfClosed();
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sink_offsets";
            command.ExecuteScalar();
            return true;
        }
        catch (DuckDBException)
        {
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs a query through the sink's own connection (DuckDB lets one process hold the file, so
    /// readers go through the running service) and returns its rows. For the tests and the coming
    /// <c>query</c> command.
    /// </summary>
    public async Task<List<object?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OpenIfClosed();
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return rows;
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OpenIfClosed()
    {
        if (_connection.State != ConnectionState.Open)
        {
            _connection.Open();
        }
    }

    private DuckDBCommand Prepared(string sql, int parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new DuckDBParameter());
        }

        return command;
    }

    private static void Execute(DuckDBCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        command.ExecuteNonQuery();
    }

    private static void TryRollback(DbTransaction? transaction)
    {
        try
        {
            transaction?.Rollback();
        }
        catch (DuckDBException)
        {
            // A failed statement may have aborted the transaction already; nothing was committed.
        }
    }

    /// <summary>Conversion and constraint errors are the rows' fault; anything else is the warehouse's.</summary>
    private static DestinationException Classify(DuckDBException e) => e.ErrorType switch
    {
        DuckDB.NET.Native.DuckDBErrorType.Conversion or DuckDB.NET.Native.DuckDBErrorType.Constraint
            or DuckDB.NET.Native.DuckDBErrorType.InvalidInput or DuckDB.NET.Native.DuckDBErrorType.OutOfRange
            => new DestinationException(DestinationErrorKind.RowsRejected, "DuckDB refused the rows: " + e.Message, e),
        _ => new DestinationException(DestinationErrorKind.Unavailable, "DuckDB failed: " + e.Message, e),
    };
}
