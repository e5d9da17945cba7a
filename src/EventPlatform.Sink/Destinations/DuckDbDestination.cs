using System.Globalization;
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

    // Staging tables live per connection (TEMP), created once outside any transaction (a rolled-back
    // transaction would drop a TEMP table created inside it). payload and metadata are JSON already:
    // the transformer parsed them, so the upsert copies them without a second validation pass.
    private const string StagingDdl = """
        CREATE TEMP TABLE IF NOT EXISTS events_staging (
            event_id VARCHAR, "timestamp" TIMESTAMP, event_type VARCHAR, user_id VARCHAR, device_id VARCHAR,
            payload JSON, metadata JSON, ingestion_time TIMESTAMP);
        CREATE TEMP TABLE IF NOT EXISTS aggregated_events_staging (
            window_start TIMESTAMP, window_end TIMESTAMP, event_type VARCHAR, count BIGINT, sum_value DOUBLE,
            avg_value DOUBLE, min_value DOUBLE, max_value DOUBLE, distinct_users BIGINT, processed_time TIMESTAMP,
            window_kind VARCHAR, window_size_ms BIGINT, window_slide_ms BIGINT, window_key VARCHAR, is_update BOOLEAN);
        """;

    // One INSERT ... ON CONFLICT may not touch a key twice: only the batch's last row of a key is staged (see LastPerKey), as it would win row by row.
    private const string UpsertEventsFromStaging = """
        INSERT INTO events (event_id, "timestamp", event_type, user_id, device_id, payload, metadata, ingestion_time)
        SELECT event_id, "timestamp", event_type, user_id, device_id, payload, metadata, ingestion_time
        FROM temp.main.events_staging
        ON CONFLICT (event_id) DO UPDATE SET "timestamp" = excluded."timestamp", event_type = excluded.event_type,
            user_id = excluded.user_id, device_id = excluded.device_id, payload = excluded.payload, metadata = excluded.metadata
        """;

    private const string UpsertAggregatesFromStaging = """
        INSERT INTO aggregated_events (window_start, window_end, event_type, count, sum_value, avg_value, min_value, max_value,
            distinct_users, processed_time, window_kind, window_size_ms, window_slide_ms, window_key, is_update)
        SELECT window_start, window_end, event_type, count, sum_value, avg_value, min_value, max_value,
            distinct_users, processed_time, window_kind, window_size_ms, window_slide_ms, window_key, is_update
        FROM temp.main.aggregated_events_staging
        ON CONFLICT (window_start, event_type, window_kind, window_size_ms, window_slide_ms, window_key) DO UPDATE SET
            window_end = excluded.window_end, count = excluded.count, sum_value = excluded.sum_value, avg_value = excluded.avg_value,
            min_value = excluded.min_value, max_value = excluded.max_value, distinct_users = excluded.distinct_users,
            processed_time = excluded.processed_time, is_update = excluded.is_update
        """;

    private const string UpsertOffset = """
        INSERT INTO sink_offsets (cluster_id, topic, "partition", next_offset, updated_at) VALUES ($1, $2, $3, $4, current_timestamp)
        ON CONFLICT (cluster_id, topic, "partition") DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at
        """;

    // After a batch met rows already written (a replay after a crash), the next batches most likely do too: they go
    // straight to the staging path for a while instead of failing an append first.
    private const int StagedBatchesAfterConflict = 16;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DuckDBConnection _connection;
    private int _stagedBatchesLeft;

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
            // Nothing the sink does needs files beyond its own: closes read_csv('/etc/...'), COPY,
            // ATTACH and extension loading to the read-only queries of /query. It cannot be undone.
            command.CommandText = "SET enable_external_access = false";
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
        try
        {
            OpenIfClosed();
            if (rows.Count <= 1)
            {
                InTransaction(clusterId, offsets, () => WriteRowByRow(rows));
                return;
            }

            var last = LastPerKey(rows, out var hasEvents);
            if (hasEvents && _stagedBatchesLeft == 0)
            {
                if (TryAppendNewEvents(clusterId, rows, last, offsets))
                {
                    return;
                }

                _stagedBatchesLeft = StagedBatchesAfterConflict;
            }
            else if (_stagedBatchesLeft > 0)
            {
                _stagedBatchesLeft--;
            }

            InTransaction(clusterId, offsets, () => WriteThroughStaging(rows, last, stageEvents: true));
        }
        catch (DuckDBException e)
        {
            throw Classify(e);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            throw new DestinationException(DestinationErrorKind.Unavailable, "DuckDB could not be written: " + e.Message, e);
        }
        finally
        {
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

    /// <summary>
    /// Runs one read-only query for a person (the <c>query</c> command through <c>/query</c>): it must
    /// be a single SELECT (DuckDB's own parser says so: <c>json_serialize_sql</c> serialises SELECTs
    /// only), it runs in a transaction that is rolled back, at most <paramref name="maxRows"/> rows are
    /// read and it is interrupted after <paramref name="timeout"/> (writes wait for it meanwhile).
    /// While it runs DuckDB's <c>memory_limit</c> is <paramref name="limits"/>' memory (DuckDB has no
    /// per-query limit, but writes wait on the same gate, so for that time the instance holds only this
    /// query), and reading stops once the rows read hold more than its result bytes.
    /// </summary>
    /// <exception cref="WarehouseQueryException">Not a single SELECT, or DuckDB refused or interrupted it, or it needed more than the limits.</exception>
    public async Task<WarehouseQueryResult> QueryReadOnlyAsync(string sql, int maxRows, TimeSpan timeout, CancellationToken cancellationToken) =>
        await QueryReadOnlyAsync(sql, maxRows, timeout, QueryLimits.Default, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc cref="QueryReadOnlyAsync(string, int, TimeSpan, CancellationToken)"/>
    public async Task<WarehouseQueryResult> QueryReadOnlyAsync(string sql, int maxRows, TimeSpan timeout, QueryLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(sql);
        if (sql.Contains('\0', StringComparison.Ordinal))
        {
            // DuckDB reads statements as C strings: what follows a NUL would never be checked.
            throw new WarehouseQueryException("The statement contains a NUL character.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        DbTransaction? transaction = null;
        CancellationTokenSource? timer = null;
        var limited = false;
        try
        {
            OpenIfClosed();
            using (var check = _connection.CreateCommand())
            {
                // Its argument must be a constant: the text as a literal, quotes doubled (DuckDB's strings know no backslash escapes).
                check.CommandText = "SELECT json_serialize_sql('" + sql.Replace("'", "''", StringComparison.Ordinal) + "')";
                var parsed = System.Text.Json.Nodes.JsonNode.Parse((string)check.ExecuteScalar()!);
                if ((bool?)parsed?["error"] == true)
                {
                    throw new WarehouseQueryException("Only a single SELECT (or WITH ... SELECT) statement may run here: " + ((string?)parsed?["error_message"] ?? "it is not one."));
                }

                if (parsed?["statements"] is not System.Text.Json.Nodes.JsonArray { Count: 1 })
                {
                    throw new WarehouseQueryException("Send exactly one SELECT statement.");
                }
            }

            using (var limit = _connection.CreateCommand())
            {
                limit.CommandText = string.Create(CultureInfo.InvariantCulture, $"SET memory_limit = '{limits.MemoryBytes}B'");
                limit.ExecuteNonQuery();
                limited = true;
            }

            transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            timer = new CancellationTokenSource(timeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
            using var interrupt = linked.Token.Register(command.Cancel);
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<object?[]>();
            var truncated = false;
            long bytes = 0;
            while (reader.Read())
            {
                if (rows.Count == maxRows)
                {
                    truncated = true;
                    break;
                }

                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    bytes += row[i] switch
                    {
                        string text => text.Length,
                        byte[] blob => blob.Length,
                        _ => 8,
                    };
                }

                if (bytes > limits.ResultBytes)
                {
                    throw new WarehouseQueryException(WarehouseQueryFailure.TooLarge,
                        $"The result holds more than {limits.ResultBytes:N0} bytes after {rows.Count + 1:N0} rows: select fewer rows or columns, or aggregate.");
                }

                rows.Add(row);
            }

            if (timer.IsCancellationRequested)
            {
                throw new WarehouseQueryException(WarehouseQueryFailure.Interrupted, $"The query was interrupted after {timeout}.");
            }

            return new WarehouseQueryResult(columns, rows, truncated);
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true)
        {
            // DuckDB.NET reports an interrupt during execution (not only while reading) as a cancellation.
            throw new WarehouseQueryException(WarehouseQueryFailure.Interrupted, $"The query was interrupted after {timeout}.");
        }
        catch (DuckDBException e) when (e.ErrorType == DuckDB.NET.Native.DuckDBErrorType.OutOfMemory)
        {
            throw new WarehouseQueryException(WarehouseQueryFailure.TooLarge,
                $"The query needed more than the {limits.MemoryBytes:N0} bytes of memory a query may use: select fewer rows or columns, or aggregate. DuckDB said: {e.Message}");
        }
        catch (DuckDBException e)
        {
            throw new WarehouseQueryException("DuckDB refused the query: " + e.Message);
        }
        finally
        {
            timer?.Dispose();
            TryRollback(transaction);
            transaction?.Dispose();
            if (limited)
            {
                ResetMemoryLimit();
            }

            _gate.Release();
        }
    }

    /// <summary>Back to DuckDB's default memory limit for the writes (a share of the machine's memory).</summary>
    private void ResetMemoryLimit()
    {
        using var reset = _connection.CreateCommand();
        reset.CommandText = "RESET memory_limit";
        reset.ExecuteNonQuery();
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
            using var setup = _connection.CreateCommand();
            // One thread: the sink writes from one thread at a time, and DuckDB's workers made the caller spin on
            // a mutex while they ran each upsert (a fifth of the write path's CPU; half the rows per CPU-second).
            setup.CommandText = StagingDdl + "SET threads = 1;";
            setup.ExecuteNonQuery();
        }
    }

    /// <summary>Runs <paramref name="write"/> and the offsets' upsert in one transaction, rolled back if anything fails.</summary>
    private void InTransaction(string clusterId, IReadOnlyList<StoredOffset> offsets, Action write)
    {
        DbTransaction? transaction = null;
        try
        {
            transaction = _connection.BeginTransaction();
            write();
            using var offsetCommand = Prepared(UpsertOffset, 4);
            foreach (var offset in offsets)
            {
                Execute(offsetCommand, clusterId, offset.Topic, offset.Partition, offset.NextOffset);
            }

            transaction.Commit();
        }
        catch (Exception e) when (e is DuckDBException or IOException or InvalidOperationException)
        {
            TryRollback(transaction);
            throw;
        }
        finally
        {
            transaction?.Dispose();
        }
    }

    /// <summary>
    /// The common case, events never written before: DuckDB's Appender straight into <c>events</c>, as fast as
    /// DuckDB takes rows. A key already there (a replay after a crash) violates the primary key; the transaction is
    /// rolled back and the caller upserts through staging instead, so the outcome is the upsert's either way.
    /// Aggregates in the same batch (partitions flushed together) are upserted through staging meanwhile.
    /// </summary>
    private bool TryAppendNewEvents(string clusterId, IReadOnlyList<WarehouseRow> rows, bool[] last, IReadOnlyList<StoredOffset> offsets)
    {
        try
        {
            InTransaction(clusterId, offsets, () =>
            {
                using (var appender = _connection.CreateAppender("events"))
                {
                    AppendEvents(appender, rows, last);
                }

                WriteThroughStaging(rows, last, stageEvents: false);
            });
            return true;
        }
        catch (DuckDBException e) when (e.ErrorType == DuckDB.NET.Native.DuckDBErrorType.Constraint)
        {
            return false;
        }
    }

    private static int AppendEvents(DuckDBAppender appender, IReadOnlyList<WarehouseRow> rows, bool[] last)
    {
        var appended = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (last[i] && rows[i] is EventRow e)
            {
                appender.CreateRow().AppendValue(e.EventId).AppendValue(e.Timestamp).AppendValue(e.EventType)
                    .AppendValue(e.UserId).AppendValue(e.DeviceId).AppendValue(e.Payload).AppendValue(e.Metadata).AppendValue(e.IngestionTime).EndRow();
                appended++;
            }
        }

        return appended;
    }

    /// <summary>
    /// A batch goes through DuckDB's Appender into per-connection TEMP tables and then into the tables
    /// with one upsert each: a prepared statement per row costs a round of planning and an index probe
    /// per row, which made a 10,000-row batch take seconds. Same transaction, same upsert semantics.
    /// </summary>
    private void WriteThroughStaging(IReadOnlyList<WarehouseRow> rows, bool[] last, bool stageEvents)
    {
        var events = 0;
        var aggregates = 0;
        if (stageEvents)
        {
            using var eventAppender = _connection.CreateAppender("temp", "main", "events_staging");
            events = AppendEvents(eventAppender, rows, last);
        }

        using (var aggregateAppender = _connection.CreateAppender("temp", "main", "aggregated_events_staging"))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (last[i] && rows[i] is AggregatedEventRow a)
                {
                    aggregateAppender.CreateRow().AppendValue(a.WindowStart).AppendValue(a.WindowEnd).AppendValue(a.EventType)
                        .AppendValue(a.Count).AppendValue(a.SumValue).AppendValue(a.AvgValue).AppendValue(a.MinValue).AppendValue(a.MaxValue)
                        .AppendValue(a.DistinctUsers).AppendValue(a.ProcessedTime).AppendValue(a.WindowKind).AppendValue(a.WindowSizeMs)
                        .AppendValue(a.WindowSlideMs).AppendValue(a.WindowKey).AppendValue(a.IsUpdate).EndRow();
                    aggregates++;
                }
            }
        }

        using var command = _connection.CreateCommand();
        if (events > 0)
        {
            command.CommandText = UpsertEventsFromStaging;
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM temp.main.events_staging";
            command.ExecuteNonQuery();
        }

        if (aggregates > 0)
        {
            command.CommandText = UpsertAggregatesFromStaging;
            command.ExecuteNonQuery();
            command.CommandText = "DELETE FROM temp.main.aggregated_events_staging";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Which rows are the last of their key in the batch (the ones an upsert row by row would leave):
    /// deciding it here, with one hash set, costs less than a window function over the staging table.
    /// </summary>
    private static bool[] LastPerKey(IReadOnlyList<WarehouseRow> rows, out bool hasEvents)
    {
        var last = new bool[rows.Count];
        var eventIds = new HashSet<string>(StringComparer.Ordinal);
        HashSet<(DateTime, string, string, long, long, string)>? windows = null;
        for (var i = rows.Count - 1; i >= 0; i--)
        {
            switch (rows[i])
            {
                case EventRow e:
                    last[i] = eventIds.Add(e.EventId);
                    break;
                case AggregatedEventRow a:
                    windows ??= [];
                    last[i] = windows.Add((a.WindowStart, a.EventType, a.WindowKind, a.WindowSizeMs, a.WindowSlideMs, a.WindowKey));
                    break;
                default:
                    throw new ArgumentException($"No table for a {rows[i].GetType().Name}.", nameof(rows));
            }
        }

        hasEvents = eventIds.Count > 0;
        return last;
    }

    /// <summary>One prepared upsert per row: for a single row (the isolation of a refused row), where staging costs more than it saves.</summary>
    private void WriteRowByRow(IReadOnlyList<WarehouseRow> rows)
    {
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

/// <summary>A query's answer: column names, rows (at most the limit), and whether more rows were left unread.</summary>
public sealed record WarehouseQueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, bool Truncated);

/// <summary>What a person's query may take: DuckDB memory while it runs, and bytes of rows read back.</summary>
/// <param name="MemoryBytes">DuckDB's <c>memory_limit</c> while the query runs.</param>
/// <param name="ResultBytes">The rows read back, counted as characters of text, bytes of blobs and 8 per other value.</param>
public sealed record QueryLimits(long MemoryBytes, long ResultBytes)
{
    /// <summary>256 MiB of DuckDB memory, 16 MiB of result: far more than a page of rows, far less than the machine.</summary>
    public static QueryLimits Default { get; } = new(256L * 1024 * 1024, 16L * 1024 * 1024);
}

/// <summary>Why a query did not answer.</summary>
public enum WarehouseQueryFailure
{
    /// <summary>Not a single SELECT, or DuckDB refused it.</summary>
    Refused,

    /// <summary>Interrupted at its time limit.</summary>
    Interrupted,

    /// <summary>It needed more memory, or its result more bytes, than a query may use.</summary>
    TooLarge,
}

/// <summary>A query that was refused or failed, in words for the person who sent it.</summary>
public sealed class WarehouseQueryException(WarehouseQueryFailure failure, string message) : Exception(message)
{
    public WarehouseQueryException(string message)
        : this(WarehouseQueryFailure.Refused, message)
    {
    }

    public WarehouseQueryFailure Failure { get; } = failure;
}
