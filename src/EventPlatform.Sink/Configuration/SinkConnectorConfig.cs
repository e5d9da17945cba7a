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

    private SinkConnectorConfig(string name, IReadOnlyDictionary<string, string> values)
    {
        Name = name;
        Values = values;
        Topics = [.. Get("topics", string.Join(',', DefaultTopics)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        BufferCountRecords = PositiveInt("buffer.count.records", 10_000);
        BufferFlushTime = TimeSpan.FromSeconds(PositiveDouble("buffer.flush.time", 1));
        BufferSizeBytes = PositiveInt("buffer.size.bytes", 5_000_000);
        TasksMax = PositiveInt("tasks.max", 1);
        if (Topics.Count == 0)
        {
            throw new SinkConfigException("'topics' names no topic.");
        }
    }

    /// <summary>What the sink reads when <c>topics</c> is not given: the raw event topics and the processor's results.</summary>
    public static IReadOnlyList<string> DefaultTopics { get; } = ["events.iot.sensors", "events.clickstream", "events.transactions", "events.aggregated"];

    /// <summary>The connector's name (also its consumer group: <c>connect-{name}</c>, as Kafka Connect names it).</summary>
    public string Name { get; }

    /// <summary>Every key as given, placeholders resolved.</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

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
        new(name, new Dictionary<string, string>(StringComparer.Ordinal) { ["connector.class"] = DuckDbConnectorClass });

    /// <summary>Builds a config from key/value pairs, resolving <c>${ENV}</c> placeholders with <paramref name="environment"/>.</summary>
    /// <exception cref="SinkConfigException">A value is out of range or a placeholder names an unset variable.</exception>
    public static SinkConnectorConfig FromValues(string name, IReadOnlyDictionary<string, string> values, Func<string, string?> environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(environment);
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            resolved[key] = Placeholder().Replace(value, m => environment(m.Groups[1].Value)
                ?? throw new SinkConfigException($"'{key}' refers to ${{{m.Groups[1].Value}}}, which is not set."));
        }

        return new SinkConnectorConfig(name, resolved);
    }

    /// <summary>
    /// Reads the seed's connector JSON (<c>{"name": ..., "config": {...}}</c>, or the bare config
    /// object as <c>PUT /connectors/{name}/config</c> takes it). Values may be strings, numbers or booleans.
    /// </summary>
    public static SinkConnectorConfig Parse(string json, Func<string, string?> environment, string? defaultName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SinkConfigException("The connector configuration is not JSON: " + e.Message);
        }

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
            return FromValues(name, values, environment);
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
}

/// <summary>A connector configuration that cannot be used, with what is wrong in words a user can act on.</summary>
public sealed class SinkConfigException(string message) : Exception(message);
