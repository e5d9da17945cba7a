using System.Text;
using EventPlatform.Sink.Configuration;
using FsCheck.Xunit;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// The connector configuration file parser against hostile input: random text and bytes, invalid
/// UTF-8, lone surrogates, huge and deeply nested JSON, and the seed's file with bytes flipped or
/// values replaced. The outcome is a usable config or a <see cref="SinkConfigException"/> with a
/// message; never another exception (which would end the sink's start with a stack trace).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ConnectorConfigFuzzTests
{
    private const string SeedJson = """
        {"name":"snowflake-sink-connector","config":{"connector.class":"com.snowflake.kafka.connector.SnowflakeSinkConnector",
         "topics":"events.aggregated","snowflake.url.name":"${SNOWFLAKE_URL}","snowflake.database.name":"EVENTS_DB",
         "buffer.count.records":"10000","buffer.flush.time":"60","buffer.size.bytes":"5000000","tasks.max":"4"}}
        """;

    private static string? Environment(string name) => name == "SNOWFLAKE_URL" ? "acct.snowflakecomputing.com" : null;

    /// <summary>Parses and touches every part of the result; true when it is a config or a clear refusal.</summary>
    private static bool ParsesOrRefuses(Func<SinkConnectorConfig> parse)
    {
        try
        {
            var config = parse();
            return config.Name.Length > 0 && config.Topics.Count > 0 && config.TasksMax is > 0 and <= SinkConnectorConfig.MaxTasks
                && config.BufferCountRecords > 0 && config.BufferFlushTime > TimeSpan.Zero && config.Values.Count > 0;
        }
        catch (SinkConfigException e)
        {
            return e.Message.Length > 0;
        }
    }

    [Property(MaxTest = 500)]
    public bool Random_text_parses_or_is_refused_clearly(string text) =>
        ParsesOrRefuses(() => SinkConnectorConfig.Parse(text ?? "", Environment));

    [Property(MaxTest = 500)]
    public bool Random_bytes_read_or_are_refused_clearly(byte[] bytes)
    {
        try
        {
            var (name, values) = SinkConnectorConfig.ReadDefinition(bytes);
            return ParsesOrRefuses(() => SinkConnectorConfig.FromValues(name, values, Environment));
        }
        catch (SinkConfigException e)
        {
            return e.Message.Length > 0;
        }
    }

    [Property(MaxTest = 500)]
    public bool The_seed_file_with_bytes_flipped_parses_or_is_refused_clearly(int seed)
    {
        var random = new Random(seed);
        var bytes = Encoding.UTF8.GetBytes(SeedJson);
        for (var i = random.Next(1, 8); i > 0; i--)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        }

        return Random_bytes_read_or_are_refused_clearly(bytes);
    }

    [Property(MaxTest = 300)]
    public bool The_seed_file_with_hostile_values_parses_or_is_refused_clearly(int seed)
    {
        var random = new Random(seed);
        string[] keys = ["name", "connector.class", "topics", "buffer.count.records", "buffer.flush.time", "buffer.size.bytes", "tasks.max", "snowflake.url.name", "errors.tolerance"];
        string[] hostile =
        [
            "null", "\"\"", "\" \"", "-1", "0", "1e999", "\"1e999\"", "\"NaN\"", "\"Infinity\"", "99999999999999999999", "\"2147483648\"", "true", "[]", "{}",
            "\"\\ud800\"", "\"${\"", "\"${UNSET}\"", "\"${${SNOWFLAKE_URL}}\"", "\",,,\"", "\"a,b,../c\"", "\"" + new string('t', 300) + "\"",
            "\"\\u0000\\u001b\"", new string('[', 50) + new string(']', 50), "\"../..\"", "\"" + string.Concat(Enumerable.Repeat("${A}", 10_000)) + "\"",
        ];
        var pairs = keys.Where(_ => random.Next(3) > 0).Select(k => $"\"{k}\":{hostile[random.Next(hostile.Length)]}");
        var config = "{" + string.Join(",", pairs) + "}";
        var json = random.Next(2) == 0 ? config : $"{{\"name\":\"c\",\"config\":{config}}}";
        return ParsesOrRefuses(() => SinkConnectorConfig.Parse(json, Environment, defaultName: random.Next(2) == 0 ? "fallback" : null));
    }

    public static IEnumerable<object[]> HostileFiles()
    {
        yield return [Array.Empty<byte>()];
        yield return ["null"u8.ToArray()];
        yield return ["[]"u8.ToArray()];
        yield return [new byte[] { 0xEF, 0xBB, 0xBF, 0xFF, 0xFE, 0xC0, 0xAF }];
        yield return [Encoding.UTF8.GetBytes(new string('[', 1_000_000))];
        yield return [Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"config\":", 100_000)))];
        yield return [Encoding.UTF8.GetBytes("{\"name\":\"" + new string('n', 5_000_000) + "\"}")];
        yield return [(byte[])[.. "{\"name\":\"c\",\"config\":{\"topics\":\""u8, 0xFF, .. "\"}}"u8]];
    }

    /// <summary>The file the sink reads at start (<c>Sink:ConnectorConfigFile</c>): a hostile one is a clear error, not a crash.</summary>
    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void A_hostile_connector_file_is_refused_with_a_clear_error_at_start(byte[] content)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, content);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sink:ConnectorConfigFile"] = file }).Build();

            var e = Record.Exception(() => SinkApp.ResolveConnector(configuration));

            Assert.IsType<SinkConfigException>(e);
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
