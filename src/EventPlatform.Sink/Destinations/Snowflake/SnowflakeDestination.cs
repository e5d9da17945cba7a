using System.Globalization;
using System.Text;
using System.Text.Json;
using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Destinations.Snowflake;

/// <summary>
/// Snowflake through its SQL API v2 (no Snowflake .NET driver is obtainable here): the seed's tables,
/// rows written with <c>MERGE</c> (on <c>event_id</c>; on the window identity for
/// <c>aggregated_events</c>) and the partitions' offsets, all in one multi-statement transaction
/// (<c>BEGIN; MERGE ...; MERGE ...; MERGE INTO sink_offsets ...; COMMIT</c>).
/// </summary>
/// <remarks>
/// <para>
/// The SQL API takes no bind variables in a multi-statement request, so a batch's rows travel as
/// one JSON array in a string literal (backslashes and quotes escaped) that <c>PARSE_JSON</c> and
/// <c>FLATTEN</c> turn back into rows; single statements (reading offsets) use bindings.
/// </para>
/// <para>
/// Only tried against a local server that follows Snowflake's documented requests and answers,
/// never against a real Snowflake account. Thread-safe.
/// </para>
/// </remarks>
public sealed class SnowflakeDestination : IWarehouseDestination
{
    private readonly SnowflakeSqlApi _api;
    private readonly SnowflakeKeyPairToken _token;
    private readonly HttpClient _http;
    private readonly SnowflakeSettings _settings;
    private volatile bool _tablesEnsured;

    public SnowflakeDestination(SnowflakeSettings settings, TimeProvider time, HttpMessageHandler? handler = null, TimeSpan? statementTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _token = new SnowflakeKeyPairToken(settings.Account, settings.User, settings.PrivateKey, settings.Passphrase, time);
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = settings.BaseAddress;
        _http.Timeout = TimeSpan.FromSeconds(60);
        _api = new SnowflakeSqlApi(_http, settings, _token, time, statementTimeout ?? TimeSpan.FromMinutes(2));
    }

    public string Name => "snowflake";

    /// <summary>The key's fingerprint (what <c>DESC USER</c> shows as RSA_PUBLIC_KEY_FP), for the logs.</summary>
    public string Fingerprint => _token.Fingerprint;

    private string Events => $"{_settings.Database}.{_settings.Schema}.EVENTS";

    private string Aggregates => $"{_settings.Database}.{_settings.AnalyticsSchema}.AGGREGATED_EVENTS";

    private string Offsets => $"{_settings.Database}.{_settings.Schema}.SINK_OFFSETS";

    /// <summary>The seed's DDL (plus the window identity columns and the offsets table), idempotent.</summary>
    public string Ddl => $"""
        CREATE TABLE IF NOT EXISTS {Events} (
            event_id VARCHAR(255) PRIMARY KEY,
            timestamp TIMESTAMP_NTZ,
            event_type VARCHAR(100),
            user_id VARCHAR(255),
            device_id VARCHAR(255),
            payload VARIANT,
            metadata VARIANT,
            ingestion_time TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP()
        );
        CREATE TABLE IF NOT EXISTS {Aggregates} (
            window_start TIMESTAMP_NTZ,
            window_end TIMESTAMP_NTZ,
            event_type VARCHAR(100),
            count INTEGER,
            sum_value FLOAT,
            avg_value FLOAT,
            min_value FLOAT,
            max_value FLOAT,
            distinct_users INTEGER,
            processed_time TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP(),
            window_kind VARCHAR(20),
            window_size_ms INTEGER,
            window_slide_ms INTEGER,
            window_key VARCHAR,
            is_update BOOLEAN,
            PRIMARY KEY (window_start, event_type, window_kind, window_size_ms, window_slide_ms, window_key)
        );
        CREATE TABLE IF NOT EXISTS {Offsets} (
            cluster_id VARCHAR NOT NULL,
            topic VARCHAR NOT NULL,
            partition INTEGER NOT NULL,
            next_offset INTEGER NOT NULL,
            updated_at TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP(),
            PRIMARY KEY (cluster_id, topic, partition)
        )
        """;

    public async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        await _api.ExecuteAsync(Ddl, null, 3, cancellationToken).ConfigureAwait(false);
        _tablesEnsured = true;
    }

    /// <summary>Tables are created before the first read or write, and again after a failure, so a setup fixed later is picked up.</summary>
    private async Task EnsureTablesOnceAsync(CancellationToken cancellationToken)
    {
        if (!_tablesEnsured)
        {
            await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<WarehouseOffsets> ReadOffsetsAsync(string clusterId, CancellationToken cancellationToken)
    {
        await EnsureTablesOnceAsync(cancellationToken).ConfigureAwait(false);
        var result = await _api.ExecuteAsync(
            $"SELECT cluster_id, topic, partition, next_offset FROM {Offsets} WHERE cluster_id = ? " +
            $"UNION ALL SELECT DISTINCT cluster_id, NULL, NULL, NULL FROM {Offsets} WHERE cluster_id <> ?",
            [SnowflakeBinding.Text(clusterId), SnowflakeBinding.Text(clusterId)], 1, cancellationToken).ConfigureAwait(false);
        var offsets = new List<StoredOffset>();
        var others = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in result.Rows)
        {
            if (row.Length < 4 || row[0] is not { } cluster)
            {
                continue;
            }

            if (cluster == clusterId && row[1] is { } topic
                && int.TryParse(row[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var partition)
                && long.TryParse(row[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var next))
            {
                offsets.Add(new StoredOffset(topic, partition, next));
            }
            else if (cluster != clusterId)
            {
                others.Add(cluster);
            }
        }

        return new WarehouseOffsets(offsets, [.. others]);
    }

    public async Task WriteAsync(string clusterId, IReadOnlyList<WarehouseRow> rows, IReadOnlyList<StoredOffset> offsets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(offsets);
        await EnsureTablesOnceAsync(cancellationToken).ConfigureAwait(false);
        var statements = new List<string> { "BEGIN" };
        var events = rows.OfType<EventRow>().ToList();
        var aggregates = rows.OfType<AggregatedEventRow>().ToList();
        if (events.Count > 0)
        {
            statements.Add(MergeEvents(events));
        }

        if (aggregates.Count > 0)
        {
            statements.Add(MergeAggregates(aggregates));
        }

        if (offsets.Count > 0)
        {
            statements.Add(MergeOffsets(clusterId, offsets));
        }

        statements.Add("COMMIT");
        await _api.ExecuteAsync(string.Join(";\n", statements), null, statements.Count, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> IsAvailableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _api.ExecuteAsync("SELECT 1", null, 1, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DestinationException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        _token.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A batch's rows as a SQL string literal of a JSON array: quotes doubled, backslashes doubled (Snowflake reads escapes in '...').</summary>
    internal static string JsonLiteral(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            write(writer);
            writer.WriteEndArray();
        }

        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        return "'" + json.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private string MergeEvents(List<EventRow> rows)
    {
        var literal = JsonLiteral(w =>
        {
            foreach (var row in rows)
            {
                w.WriteStartObject();
                w.WriteString("event_id", row.EventId);
                w.WriteString("timestamp", Timestamp(row.Timestamp));
                w.WriteString("event_type", row.EventType);
                w.WriteString("user_id", row.UserId);
                w.WriteString("device_id", row.DeviceId);
                w.WriteString("payload", row.Payload);
                w.WriteString("metadata", row.Metadata);
                w.WriteString("ingestion_time", Timestamp(row.IngestionTime));
                w.WriteEndObject();
            }
        });
        // Within a batch the last copy of an event wins, as the upserts one by one would.
        return $"""
            MERGE INTO {Events} t USING (
                SELECT f.value:event_id::VARCHAR AS event_id, f.value:timestamp::TIMESTAMP_NTZ AS timestamp, f.value:event_type::VARCHAR AS event_type,
                    f.value:user_id::VARCHAR AS user_id, f.value:device_id::VARCHAR AS device_id,
                    PARSE_JSON(f.value:payload::VARCHAR) AS payload, PARSE_JSON(f.value:metadata::VARCHAR) AS metadata,
                    f.value:ingestion_time::TIMESTAMP_NTZ AS ingestion_time
                FROM TABLE(FLATTEN(INPUT => PARSE_JSON({literal}))) f
                QUALIFY ROW_NUMBER() OVER (PARTITION BY f.value:event_id::VARCHAR ORDER BY f.index DESC) = 1
            ) s ON t.event_id = s.event_id
            WHEN MATCHED THEN UPDATE SET timestamp = s.timestamp, event_type = s.event_type, user_id = s.user_id, device_id = s.device_id,
                payload = s.payload, metadata = s.metadata
            WHEN NOT MATCHED THEN INSERT (event_id, timestamp, event_type, user_id, device_id, payload, metadata, ingestion_time)
                VALUES (s.event_id, s.timestamp, s.event_type, s.user_id, s.device_id, s.payload, s.metadata, s.ingestion_time)
            """;
    }

    private string MergeAggregates(List<AggregatedEventRow> rows)
    {
        var literal = JsonLiteral(w =>
        {
            foreach (var a in rows)
            {
                w.WriteStartObject();
                w.WriteString("window_start", Timestamp(a.WindowStart));
                w.WriteString("window_end", Timestamp(a.WindowEnd));
                w.WriteString("event_type", a.EventType);
                w.WriteNumber("count", a.Count);
                WriteNumber(w, "sum_value", a.SumValue);
                WriteNumber(w, "avg_value", a.AvgValue);
                WriteNumber(w, "min_value", a.MinValue);
                WriteNumber(w, "max_value", a.MaxValue);
                w.WriteNumber("distinct_users", a.DistinctUsers);
                w.WriteString("processed_time", Timestamp(a.ProcessedTime));
                w.WriteString("window_kind", a.WindowKind);
                w.WriteNumber("window_size_ms", a.WindowSizeMs);
                w.WriteNumber("window_slide_ms", a.WindowSlideMs);
                w.WriteString("window_key", a.WindowKey);
                w.WriteBoolean("is_update", a.IsUpdate);
                w.WriteEndObject();
            }
        });
        const string Identity = "window_start, event_type, window_kind, window_size_ms, window_slide_ms, window_key";
        // A late update replaces the earlier result of the same window.
        return $"""
            MERGE INTO {Aggregates} t USING (
                SELECT f.value:window_start::TIMESTAMP_NTZ AS window_start, f.value:window_end::TIMESTAMP_NTZ AS window_end,
                    f.value:event_type::VARCHAR AS event_type, f.value:count::INTEGER AS count, f.value:sum_value::FLOAT AS sum_value,
                    f.value:avg_value::FLOAT AS avg_value, f.value:min_value::FLOAT AS min_value, f.value:max_value::FLOAT AS max_value,
                    f.value:distinct_users::INTEGER AS distinct_users, f.value:processed_time::TIMESTAMP_NTZ AS processed_time,
                    f.value:window_kind::VARCHAR AS window_kind, f.value:window_size_ms::INTEGER AS window_size_ms,
                    f.value:window_slide_ms::INTEGER AS window_slide_ms, f.value:window_key::VARCHAR AS window_key, f.value:is_update::BOOLEAN AS is_update
                FROM TABLE(FLATTEN(INPUT => PARSE_JSON({literal}))) f
                QUALIFY ROW_NUMBER() OVER (PARTITION BY {string.Join(", ", Identity.Split(", ").Select(c => "f.value:" + c))} ORDER BY f.index DESC) = 1
            ) s ON {string.Join(" AND ", Identity.Split(", ").Select(c => $"t.{c} = s.{c}"))}
            WHEN MATCHED THEN UPDATE SET window_end = s.window_end, count = s.count, sum_value = s.sum_value, avg_value = s.avg_value,
                min_value = s.min_value, max_value = s.max_value, distinct_users = s.distinct_users, processed_time = s.processed_time, is_update = s.is_update
            WHEN NOT MATCHED THEN INSERT ({Identity}, window_end, count, sum_value, avg_value, min_value, max_value, distinct_users, processed_time, is_update)
                VALUES (s.window_start, s.event_type, s.window_kind, s.window_size_ms, s.window_slide_ms, s.window_key, s.window_end, s.count, s.sum_value,
                    s.avg_value, s.min_value, s.max_value, s.distinct_users, s.processed_time, s.is_update)
            """;
    }

    private string MergeOffsets(string clusterId, IReadOnlyList<StoredOffset> offsets)
    {
        var literal = JsonLiteral(w =>
        {
            foreach (var o in offsets)
            {
                w.WriteStartObject();
                w.WriteString("cluster_id", clusterId);
                w.WriteString("topic", o.Topic);
                w.WriteNumber("partition", o.Partition);
                w.WriteNumber("next_offset", o.NextOffset);
                w.WriteEndObject();
            }
        });
        return $"""
            MERGE INTO {Offsets} t USING (
                SELECT f.value:cluster_id::VARCHAR AS cluster_id, f.value:topic::VARCHAR AS topic, f.value:partition::INTEGER AS partition,
                    f.value:next_offset::INTEGER AS next_offset
                FROM TABLE(FLATTEN(INPUT => PARSE_JSON({literal}))) f
            ) s ON t.cluster_id = s.cluster_id AND t.topic = s.topic AND t.partition = s.partition
            WHEN MATCHED THEN UPDATE SET next_offset = s.next_offset, updated_at = CURRENT_TIMESTAMP()
            WHEN NOT MATCHED THEN INSERT (cluster_id, topic, partition, next_offset) VALUES (s.cluster_id, s.topic, s.partition, s.next_offset)
            """;
    }

    private static string Timestamp(DateTime value) => value.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture);

    private static void WriteNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
