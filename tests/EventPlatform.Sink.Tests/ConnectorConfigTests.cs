using EventPlatform.Sink.Configuration;

namespace EventPlatform.Sink.Tests;

public sealed class ConnectorConfigTests
{
    /// <summary>The seed's connector JSON, as it is in the design.</summary>
    private const string SeedJson = """
        {
          "name": "snowflake-sink-connector",
          "config": {
            "connector.class": "com.snowflake.kafka.connector.SnowflakeSinkConnector",
            "topics": "events.aggregated",
            "snowflake.url.name": "${SNOWFLAKE_URL}",
            "snowflake.user.name": "${SNOWFLAKE_USER}",
            "snowflake.private.key": "${SNOWFLAKE_PRIVATE_KEY}",
            "snowflake.database.name": "EVENTS_DB",
            "snowflake.schema.name": "RAW",
            "buffer.count.records": "10000",
            "buffer.flush.time": "60",
            "buffer.size.bytes": "5000000",
            "tasks.max": "4"
          }
        }
        """;

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["SNOWFLAKE_URL"] = "acct.snowflakecomputing.com",
        ["SNOWFLAKE_USER"] = "loader",
        ["SNOWFLAKE_PRIVATE_KEY"] = "MIIE...",
    };

    [Fact]
    public void The_seeds_connector_json_is_accepted_as_is_with_its_placeholders_resolved()
    {
        var config = SinkConnectorConfig.Parse(SeedJson, Environment.GetValueOrDefault);

        Assert.Equal("snowflake-sink-connector", config.Name);
        Assert.Equal("connect-snowflake-sink-connector", config.GroupId);
        Assert.Equal(["events.aggregated"], config.Topics);
        Assert.Equal(10_000, config.BufferCountRecords);
        Assert.Equal(TimeSpan.FromSeconds(60), config.BufferFlushTime);
        Assert.Equal(5_000_000, config.BufferSizeBytes);
        Assert.Equal(4, config.TasksMax);
        Assert.Equal("acct.snowflakecomputing.com", config.Values["snowflake.url.name"]);
        Assert.Equal("EVENTS_DB", config.Values["snowflake.database.name"]);
    }

    [Fact]
    public void A_placeholder_of_an_unset_variable_fails_with_its_name()
    {
        var e = Assert.Throws<SinkConfigException>(() => SinkConnectorConfig.Parse(SeedJson, _ => null));

        Assert.Contains("SNOWFLAKE_URL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"c","config":{"buffer.count.records":"0"}}""", "buffer.count.records")]
    [InlineData("""{"name":"c","config":{"buffer.flush.time":"soon"}}""", "buffer.flush.time")]
    [InlineData("""{"name":"c","config":{"tasks.max":"-1"}}""", "tasks.max")]
    [InlineData("""{"config":{}}""", "name")]
    [InlineData("""[1]""", "object")]
    public void A_bad_value_fails_at_start_naming_the_key(string json, string named)
    {
        var e = Assert.Throws<SinkConfigException>(() => SinkConnectorConfig.Parse(json, _ => null));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_file_the_sink_reads_the_raw_topics_and_the_aggregates_and_flushes_within_a_second()
    {
        var config = SinkConnectorConfig.Default();

        Assert.Equal(["events.iot.sensors", "events.clickstream", "events.transactions", "events.aggregated"], config.Topics);
        Assert.Equal(TimeSpan.FromSeconds(1), config.BufferFlushTime);
    }
}
