using System.Text.Json.Nodes;
using EventPlatform.Sink.Configuration;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Destinations.Snowflake;
using EventPlatform.Sink.Transformation;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// The Snowflake destination against a local server that follows the SQL API v2's documented
/// shapes (<see cref="FakeSnowflake"/>): the key-pair JWT, statements and bindings, 202 and polling,
/// partitioned results, the expired-token retry, and failures sorted by kind. Never tried against a
/// real Snowflake account.
/// </summary>
public sealed class SnowflakeDestinationTests : IAsyncLifetime
{
    private FakeSnowflake _snowflake = null!;

    public async Task InitializeAsync() => _snowflake = await FakeSnowflake.StartAsync();

    public async Task DisposeAsync() => await _snowflake.DisposeAsync();

    private SnowflakeDestination Destination(string? privateKey = null, string? passphrase = null, TimeSpan? statementTimeout = null)
    {
        var values = new Dictionary<string, string>
        {
            ["connector.class"] = SinkConnectorConfig.SnowflakeConnectorClass,
            ["snowflake.url.name"] = _snowflake.Url.ToString(),
            ["snowflake.user.name"] = "kafka_connect",
            ["snowflake.account.name"] = "xy12345.us-east-1",
            ["snowflake.private.key"] = privateKey ?? _snowflake.PrivateKeyPem(),
            ["snowflake.database.name"] = "EVENTS_DB",
            ["snowflake.schema.name"] = "RAW",
        };
        if (passphrase is not null)
        {
            values["snowflake.private.key.passphrase"] = passphrase;
        }

        var settings = SnowflakeSettings.From(SinkConnectorConfig.FromValues("snowflake-sink-connector", values, _ => null));
        return new SnowflakeDestination(settings, TimeProvider.System, statementTimeout: statementTimeout);
    }

    private static EventRow Row(string id, string payload) => new()
    {
        Source = new RecordPosition("events.iot.sensors", 0, 0),
        OriginalMessage = [],
        SizeBytes = 1,
        EventId = id,
        Timestamp = new DateTime(2024, 1, 15, 10, 30, 0, DateTimeKind.Utc),
        EventType = "iot.sensor",
        DeviceId = "device_456",
        Payload = payload,
        Metadata = null,
        IngestionTime = new DateTime(2024, 1, 15, 10, 30, 1, DateTimeKind.Utc),
    };

    [Fact]
    public async Task Rows_and_offsets_go_in_one_transaction_with_the_seeds_ddl_and_merge_and_hostile_text_survives_the_literal()
    {
        await using var destination = Destination();
        const string Hostile = """{"note":"it's a \"quote\"; DROP TABLE x; -- \\ back\\slash \n new line é 😀 $$"}""";

        await destination.WriteAsync("cluster-a", [Row("evt_1", Hostile), Row("evt_2", """{"t":1}"""), Row("evt_1", Hostile)],
            [new StoredOffset("events.iot.sensors", 0, 3), new StoredOffset("events.iot.sensors", 1, 7)], CancellationToken.None);

        var requests = _snowflake.Accepted.ToList();
        Assert.Contains("CREATE TABLE IF NOT EXISTS EVENTS_DB.RAW.EVENTS", (string)requests[0]["statement"]!, StringComparison.Ordinal);
        Assert.Contains("payload VARIANT", (string)requests[0]["statement"]!, StringComparison.Ordinal);
        Assert.Contains("EVENTS_DB.ANALYTICS.AGGREGATED_EVENTS", (string)requests[0]["statement"]!, StringComparison.Ordinal);
        var write = requests[1];
        var statements = FakeSnowflake.SplitStatements((string)write["statement"]!);
        Assert.Equal(["BEGIN", "MERGE", "MERGE", "COMMIT"], statements.Select(s => s.Split(' ')[0]));
        Assert.Equal("4", (string?)write["parameters"]!["MULTI_STATEMENT_COUNT"]);
        Assert.Null(write["bindings"]);
        Assert.Contains("ON t.event_id = s.event_id", statements[1], StringComparison.Ordinal);
        Assert.Equal("EVENTS_DB", (string?)write["database"]);
        Assert.Equal(2, _snowflake.Events.Count);
        Assert.Equal(Hostile, (string?)_snowflake.Events["evt_1"]["payload"]);
        Assert.Equal(3, _snowflake.Offsets[("cluster-a", "events.iot.sensors", 0)]);

        await destination.WriteAsync("cluster-b", [], [new StoredOffset("events.iot.sensors", 0, 1)], CancellationToken.None);
        var offsets = await destination.ReadOffsetsAsync("cluster-a", CancellationToken.None);

        Assert.Equal([new StoredOffset("events.iot.sensors", 0, 3), new StoredOffset("events.iot.sensors", 1, 7)], offsets.Offsets.OrderBy(o => o.Partition));
        Assert.Equal(["cluster-b"], offsets.OtherClusters);
        var read = _snowflake.Accepted.Last();
        Assert.Equal("TEXT", (string?)read["bindings"]!["1"]!["type"]);
        Assert.Equal("cluster-a", (string?)read["bindings"]!["2"]!["value"]);
        // Three rows come in two partitions: the second was fetched with ?partition=1.
        Assert.Contains(_snowflake.RequestTargets, t => t.EndsWith("?partition=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_token_is_rs256_with_the_fingerprint_issuer_and_an_hour_at_most_from_pem_encrypted_pem_or_base64_der()
    {
        string[] keys = [_snowflake.PrivateKeyPem(), _snowflake.PrivateKeyPem("s3cret"), Convert.ToBase64String(_snowflake.Key.ExportPkcs8PrivateKey())];
        string?[] passphrases = [null, "s3cret", null];
        for (var i = 0; i < keys.Length; i++)
        {
            await using var destination = Destination(keys[i], passphrases[i]);

            Assert.True(await destination.IsAvailableAsync(CancellationToken.None), $"key form {i} was refused");
            Assert.Equal(_snowflake.Fingerprint, destination.Fingerprint);
        }

        var claims = JsonNode.Parse(Convert.FromBase64String(Pad(_snowflake.Tokens.Last().Split('.')[1])))!;
        Assert.Equal($"XY12345.KAFKA_CONNECT.{_snowflake.Fingerprint}", (string?)claims["iss"]);
        Assert.Equal("XY12345.KAFKA_CONNECT", (string?)claims["sub"]);
        Assert.InRange((long)claims["exp"]! - (long)claims["iat"]!, 60, 3600);
        Assert.Throws<ArgumentException>(() => Destination("not a key"));
    }

    [Fact]
    public async Task An_asynchronous_statement_is_polled_by_its_handle_until_it_completes()
    {
        _snowflake.AsyncPolls = 2;
        await using var destination = Destination();

        await destination.WriteAsync("c", [Row("evt_async", "{}")], [new StoredOffset("t", 0, 1)], CancellationToken.None);

        Assert.True(_snowflake.Events.ContainsKey("evt_async"));
        Assert.True(_snowflake.RequestTargets.Count(t => t.StartsWith("/api/v2/statements/", StringComparison.Ordinal)) >= 4);
        _snowflake.AsyncPolls = 1000;
        await using var slow = Destination(statementTimeout: TimeSpan.FromMilliseconds(300));
        var timedOut = await Assert.ThrowsAsync<DestinationException>(() => slow.WriteAsync("c", [Row("evt_slow", "{}")], [], CancellationToken.None));
        Assert.Equal(DestinationErrorKind.Unavailable, timedOut.Kind);
    }

    [Fact]
    public async Task An_expired_token_is_signed_again_and_the_request_resent_once_with_the_same_request_id()
    {
        await using var destination = Destination();
        await destination.EnsureTablesAsync(CancellationToken.None);
        _snowflake.Faults.Enqueue((401, """{"code":"390318","message":"Token expired."}""", null));

        await destination.WriteAsync("c", [Row("evt_retry", "{}")], [], CancellationToken.None);

        var targets = _snowflake.RequestTargets.TakeLast(2).ToList();
        Assert.EndsWith("&retry=true", targets[1], StringComparison.Ordinal);
        Assert.Equal(targets[0], targets[1].Replace("&retry=true", "", StringComparison.Ordinal));
        Assert.True(_snowflake.Events.ContainsKey("evt_retry"));
    }

    [Theory]
    [InlineData(429, """{"code":"000000","message":"Too many requests"}""", DestinationErrorKind.Unavailable)]
    [InlineData(503, "<html>busy</html>", DestinationErrorKind.Unavailable)]
    [InlineData(401, """{"code":"390144","message":"JWT token is invalid."}""", DestinationErrorKind.Setup)]
    [InlineData(422, """{"code":"002003","sqlState":"42S02","message":"Object 'EVENTS_DB.RAW.EVENTS' does not exist or not authorized."}""", DestinationErrorKind.Setup)]
    [InlineData(422, """{"code":"003001","sqlState":"42501","message":"Insufficient privileges to operate on table 'EVENTS'."}""", DestinationErrorKind.Setup)]
    [InlineData(422, """{"code":"100038","sqlState":"22018","message":"Numeric value 'abc' is not recognized"}""", DestinationErrorKind.RowsRejected)]
    public async Task Failures_are_sorted_by_kind_setup_transient_or_bad_rows(int status, string body, DestinationErrorKind expected)
    {
        await using var destination = Destination();
        await destination.EnsureTablesAsync(CancellationToken.None);
        _snowflake.Faults.Enqueue((status, body, status == 429 ? 7 : null));

        var e = await Assert.ThrowsAsync<DestinationException>(() => destination.WriteAsync("c", [Row("evt_x", "{}")], [], CancellationToken.None));

        Assert.Equal(expected, e.Kind);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Equal(status == 429 ? TimeSpan.FromSeconds(7) : null, e.RetryAfter);
    }

    [Fact]
    public void The_seed_connector_without_its_environment_names_what_snowflake_needs()
    {
        var config = SinkConnectorConfig.FromValues("c", new Dictionary<string, string> { ["snowflake.url.name"] = "${SNOWFLAKE_URL}", ["snowflake.user.name"] = "u" }, _ => null);

        var e = Assert.Throws<SinkConfigException>(() => SnowflakeSettings.From(config));

        Assert.Contains("snowflake.url.name", e.Message, StringComparison.Ordinal);
        var bad = SinkConnectorConfig.FromValues("c", new Dictionary<string, string>
        {
            ["snowflake.url.name"] = "acct.snowflakecomputing.com", ["snowflake.user.name"] = "u", ["snowflake.private.key"] = "k",
            ["snowflake.database.name"] = "EVENTS_DB; DROP", ["snowflake.schema.name"] = "RAW",
        }, _ => null);
        Assert.Contains("plain Snowflake identifier", Assert.Throws<SinkConfigException>(() => SnowflakeSettings.From(bad)).Message, StringComparison.Ordinal);
        var seed = SnowflakeSettings.From(SinkConnectorConfig.FromValues("c", new Dictionary<string, string>
        {
            ["snowflake.url.name"] = "xy12345.us-east-1.snowflakecomputing.com:443", ["snowflake.user.name"] = "kafka_connect", ["snowflake.private.key"] = "k",
            ["snowflake.database.name"] = "EVENTS_DB", ["snowflake.schema.name"] = "RAW",
        }, _ => null));
        Assert.Equal("XY12345", seed.Account);
        Assert.Equal(new Uri("https://xy12345.us-east-1.snowflakecomputing.com/"), seed.BaseAddress);
    }

    private static string Pad(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text + new string('=', (4 - (text.Length % 4)) % 4);
    }
}
