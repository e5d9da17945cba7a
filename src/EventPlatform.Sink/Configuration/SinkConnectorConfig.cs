using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventPlatform.Sink.Configuration;

/// <summary>
/// A connector's configuration in Kafka Connect's own keys (the seed's connector JSON):
/// <c>topics</c>, <c>buffer.count.records</c>, <c>buffer.flush.time</c> (seconds),
/// <c>buffer.size.bytes</c>, <c>tasks.max</c> and the <c>snowflake.*</c> keys, every value a string
/// in which <c>${NAME}</c> is replaced by the environment variable NAME.
/// </summary>
/// <remarks>
/// The raw key/value map is kept whole (<see cref="Values"/>), so that the later Connect REST API
/// returns a config as it was given and a Snowflake destination reads its own keys from it.
/// Immutable and thread-safe.
/// </remarks>
public sealed partial class SinkConnectorConfig
{
    /// <summary>Kafka Connect's name for our connector class (the seed's is Snowflake's; both are accepted).</summary>
    public const string DuckDbConnectorClass = "eventplatform.sink.DuckDbSinkConnector";

    /// <summary>The seed's connector class (Snowflake's own connector), accepted as is.</summary>
    public const string SnowflakeConnectorClass = "com.snowflake.kafka.connector.SnowflakeSinkConnector";

    /// <summary>The most tasks one connector runs per instance: each is a consumer and a thread.</summary>
    public const int MaxTasks = 32;

    private SinkConnectorConfig(string name, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> rawValues)
    {
        Name = name;
        Values = values;
        RawValues = rawValues;
        Topics = [.. Get("topics", string.Join(',', DefaultTopics)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        BufferCountRecords = PositiveInt("buffer.count.records", 10_000);
        BufferFlushTime = TimeSpan.FromSeconds(PositiveDouble("buffer.flush.time", 1));
        BufferSizeBytes = PositiveInt("buffer.size.bytes", 5_000_000);
        TasksMax = PositiveInt("tasks.max", 1);
        if (Topics.Count == 0)
        {
            throw new SinkConfigException("'topics' names no topic.");
        }

        if (Topics.FirstOrDefault(t => !TopicName().IsMatch(t)) is { } badTopic)
        {
            throw new SinkConfigException($"'topics' holds '{badTopic}', which is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249).");
        }

        if (TasksMax > MaxTasks)
        {
            throw new SinkConfigException($"'tasks.max' must be at most {MaxTasks} (each task is a consumer and a thread of this instance; run more instances to scale further).");
        }

        var connectorClass = Get("connector.class", DuckDbConnectorClass);
        if (connectorClass is not (DuckDbConnectorClass or SnowflakeConnectorClass))
        {
            throw new SinkConfigException($"Failed to find any class that implements Connector and which name matches {connectorClass}; this worker runs {SnowflakeConnectorClass} and {DuckDbConnectorClass}.");
        }
    }

    /// <summary>
    /// The <c>snowflake.*</c> keys whose <c>${ENV}</c> placeholder named an unset variable. Allowed
    /// (the seed's JSON runs here without a Snowflake account: it then writes to the embedded
    /// warehouse); the Snowflake destination refuses to start with any.
    /// </summary>
    public IReadOnlyList<string> UnresolvedKeys { get; private init; } = [];

    /// <summary>The Snowflake account URL if one is configured (<c>snowflake.url.name</c> resolved and not empty), else null: the connector writes to DuckDB.</summary>
    public string? SnowflakeUrl =>
        Values.TryGetValue("snowflake.url.name", out var url) && !string.IsNullOrWhiteSpace(url) && !UnresolvedKeys.Contains("snowflake.url.name") ? url : null;

    /// <summary>What the sink reads when <c>topics</c> is not given: the raw event topics and the processor's results.</summary>
    public static IReadOnlyList<string> DefaultTopics { get; } = ["events.iot.sensors", "events.clickstream", "events.transactions", "events.aggregated"];

    /// <summary>The connector's name (also its consumer group: <c>connect-{name}</c>, as Kafka Connect names it).</summary>
    public string Name { get; }

    /// <summary>Every key as given, placeholders resolved.</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>Every key as given, placeholders kept: what is stored and what the REST API returns (no resolved secret leaves the process).</summary>
    public IReadOnlyDictionary<string, string> RawValues { get; }

    public IReadOnlyList<string> Topics { get; }

    /// <summary>A partition's buffer is flushed when it holds this many records.</summary>
    public int BufferCountRecords { get; }

    /// <summary>A partition's buffer is flushed when its oldest record has waited this long.</summary>
    public TimeSpan BufferFlushTime { get; }

    /// <summary>A partition's buffer is flushed when its records' bytes exceed this.</summary>
    public int BufferSizeBytes { get; }

    /// <summary>Consumers (tasks) per sink instance.</summary>
    public int TasksMax { get; }

    /// <summary>The consumer group, Kafka Connect's convention.</summary>
    public string GroupId => "connect-" + Name;

    /// <summary>The configuration the sink runs without a file: every default (flushes within about a second).</summary>
    public static SinkConnectorConfig Default(string name = "eventplatform-sink") =>
        FromValues(name, new Dictionary<string, string>(StringComparer.Ordinal) { ["connector.class"] = DuckDbConnectorClass, ["name"] = name }, _ => null);

    /// <summary>Builds a config from key/value pairs, resolving <c>${ENV}</c> placeholders with <paramref name="environment"/>.</summary>
    /// <exception cref="SinkConfigException">A value is out of range or a placeholder names an unset variable.</exception>
    public static SinkConnectorConfig FromValues(string name, IReadOnlyDictionary<string, string> values, Func<string, string?> environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(environment);
        if (NameProblem(name) is { } problem)
        {
            throw new SinkConfigException(problem);
        }

        if (values.TryGetValue("name", out var inner) && inner != name)
        {
            throw new SinkConfigException($"The config's 'name' ('{inner}') differs from the connector's name ('{name}').");
        }

        // Kafka Connect keeps the name inside the config too.
        var raw = new Dictionary<string, string>(values, StringComparer.Ordinal);
        raw.TryAdd("name", name);
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        var unresolved = new List<string>();
        foreach (var (key, value) in raw)
        {
            resolved[key] = Placeholder().Replace(value, m =>
            {
                if (environment(m.Groups[1].Value) is { } set)
                {
                    return set;
                }

                if (key.StartsWith("snowflake.", StringComparison.Ordinal))
                {
                    unresolved.Add(key);
                    return "";
                }

                throw new SinkConfigException($"'{key}' refers to ${{{m.Groups[1].Value}}}, which is not set.");
            });
        }

        return new SinkConnectorConfig(name, resolved, raw) { UnresolvedKeys = unresolved };
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot name a connector, or null: empty or blank, longer than
    /// 200 characters, control characters, path separators, <c>.</c> or <c>..</c>, or text that is
    /// not valid UTF-16 (a lone surrogate). Such names could not be addressed in a URL or stored.
    /// </summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "A connector name must not be empty or blank.";
        }

        if (name.Length > 200)
        {
            return "A connector name must be at most 200 characters.";
        }

        if (name is "." or ".." || name.Any(c => char.IsControl(c) || c is '/' or '\\'))
        {
            return "A connector name must not be '.' or '..' nor contain control characters, '/' or '\\'.";
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsHighSurrogate(name[i]) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(name[i]))
            {
                return "A connector name must be valid Unicode text.";
            }
        }

        return null;
    }

    /// <summary>
    /// Reads the seed's connector JSON (<c>{"name": ..., "config": {...}}</c>, or the bare config
    /// object as <c>PUT /connectors/{name}/config</c> takes it). Values may be strings, numbers or booleans.
    /// </summary>
    public static SinkConnectorConfig Parse(string json, Func<string, string?> environment, string? defaultName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var (name, values) = ReadDefinition(System.Text.Encoding.UTF8.GetBytes(json), defaultName);
        return FromValues(name, values, environment);
    }

    /// <summary>
    /// The name and raw key/value pairs of a connector JSON (placeholders kept), from bytes as
    /// they came (invalid UTF-8, lone surrogates, deep nesting and non-string values are refused
    /// with a <see cref="SinkConfigException"/>, never another exception).
    /// </summary>
    public static (string Name, Dictionary<string, string> Values) ReadDefinition(ReadOnlyMemory<byte> json, string? defaultName = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SinkConfigException("The connector configuration is not JSON: " + e.Message);
        }
        catch (ArgumentException e)
        {
            throw new SinkConfigException("The connector configuration is not JSON: " + e.Message);
        }

        try
        {
            return ReadDefinition(document, defaultName);
        }
        catch (InvalidOperationException e)
        {
            // GetString on a lone surrogate escape or on invalid UTF-8.
            throw new SinkConfigException("The connector configuration holds text that is not valid Unicode: " + e.Message);
        }
    }

    private static (string Name, Dictionary<string, string> Values) ReadDefinition(JsonDocument document, string? defaultName)
    {
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SinkConfigException("The connector configuration must be a JSON object.");
            }

            var config = root.TryGetProperty("config", out var inner) ? inner : root;
            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
            if (config.ValueKind != JsonValueKind.Object)
            {
                throw new SinkConfigException("'config' must be a JSON object.");
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in config.EnumerateObject())
            {
                values[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                    _ => throw new SinkConfigException($"'{property.Name}' must be a string, as Kafka Connect configs are."),
                };
            }

            name ??= values.GetValueOrDefault("name") ?? defaultName ?? throw new SinkConfigException("The connector configuration has no 'name'.");
            return (name, values);
        }
    }

    private string Get(string key, string fallback) => Values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v : fallback;

    private int PositiveInt(string key, int fallback)
    {
        var text = Get(key, fallback.ToString(CultureInfo.InvariantCulture));
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new SinkConfigException($"'{key}' must be a positive integer, not '{text}'.");
    }

    private double PositiveDouble(string key, double fallback)
    {
        var text = Get(key, fallback.ToString(CultureInfo.InvariantCulture));
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && value < TimeSpan.MaxValue.TotalSeconds
            ? value
            : throw new SinkConfigException($"'{key}' must be a positive number of seconds, not '{text}'.");
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex TopicName();
}

/// <summary>A connector configuration that cannot be used, with what is wrong in words a user can act on.</summary>
public sealed class SinkConfigException(string message) : Exception(message);
