using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Sink.Connect;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// The Kafka Connect REST API on a real sink (HTTP, embedded broker, DuckDB): Connect's shapes and
/// status codes, the seed's JSON posted as is, configs that survive a restart, authentication,
/// and hostile requests answered with 4xx in Connect's error shape.
/// </summary>
public sealed class ConnectApiTests(SinkFixture fixture) : IClassFixture<SinkFixture>, IDisposable
{
    private const string SeedConnectorJson = """
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

    private readonly string _directory = Directory.CreateTempSubdirectory("sink-connect-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<WebApplication> StartAsync(string topic) => fixture.StartSinkAsync(Path.Combine(_directory, "warehouse.duckdb"), topic, new Dictionary<string, string?>
    {
        ["Sink:ConnectorDirectory"] = Path.Combine(_directory, "connect"),
    });

    [Fact]
    public async Task The_seed_json_posted_as_is_creates_a_running_connector_listed_beside_the_default_and_a_second_post_is_409()
    {
        await using var sink = await StartAsync(fixture.NewTopic(partitions: 1));
        using var http = SinkFixture.Client(sink);

        using var created = await http.PostAsync("/connectors", Json(SeedConnectorJson));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var info = await BodyAsync(created);
        Assert.Equal("snowflake-sink-connector", (string?)info["name"]);
        Assert.Equal("sink", (string?)info["type"]);
        Assert.Equal("${SNOWFLAKE_URL}", (string?)info["config"]!["snowflake.url.name"]);
        Assert.Equal(4, info["tasks"]!.AsArray().Count);
        Assert.Equal(3, (int?)info["tasks"]![3]!["task"]);

        var names = (await BodyAsync(await http.GetAsync("/connectors"))).AsArray().Select(n => (string?)n).ToList();
        Assert.Contains("snowflake-sink-connector", names);
        Assert.Equal(2, names.Count);

        var status = await BodyAsync(await http.GetAsync("/connectors/snowflake-sink-connector/status"));
        Assert.Equal("RUNNING", (string?)status["connector"]!["state"]);
        Assert.Equal("sink", (string?)status["type"]);
        Assert.Equal(4, status["tasks"]!.AsArray().Count);
        Assert.All(status["tasks"]!.AsArray(), t => Assert.Equal("RUNNING", (string?)t!["state"]));
        Assert.Matches(@"^127\.0\.0\.1:\d+$", (string?)status["connector"]!["worker_id"]);

        using var again = await http.PostAsync("/connectors", Json(SeedConnectorJson));
        await AssertErrorAsync(again, HttpStatusCode.Conflict, "already exists");
        await AssertErrorAsync(await http.GetAsync("/connectors/nobody/status"), HttpStatusCode.NotFound, "Connector nobody not found");

        var tasks = await BodyAsync(await http.GetAsync("/connectors/snowflake-sink-connector/tasks"));
        Assert.Equal("snowflake-sink-connector", (string?)tasks[0]!["id"]!["connector"]);
        Assert.Equal("4", (string?)tasks[0]!["config"]!["tasks.max"]);
        var expanded = await BodyAsync(await http.GetAsync("/connectors?expand=status&expand=info"));
        Assert.Equal("RUNNING", (string?)expanded["snowflake-sink-connector"]!["status"]!["connector"]!["state"]);
        Assert.Equal("sink", (string?)expanded["snowflake-sink-connector"]!["info"]!["type"]);
        var root = await BodyAsync(await new HttpClient { BaseAddress = http.BaseAddress }.GetAsync("/"));
        Assert.Equal(ConnectApi.ConnectVersion, (string?)root["version"]);
        Assert.False(string.IsNullOrEmpty((string?)root["kafka_cluster_id"]));
    }

    [Fact]
    public async Task A_connector_created_through_the_api_writes_its_topic_and_reports_its_offsets_and_lifecycle_calls_answer_as_connect_does()
    {
        var ownTopic = fixture.NewTopic(partitions: 2);
        await using var sink = await StartAsync(fixture.NewTopic(partitions: 1));
        using var http = SinkFixture.Client(sink);
        var config = $$"""{"topics":"{{ownTopic}}","buffer.count.records":"50","buffer.flush.time":"0.2","tasks.max":"2"}""";

        using var put = await http.PutAsync("/connectors/api-made/config", Json(config));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await fixture.ProduceAsync(ownTopic, Enumerable.Range(0, 120).Select(i => ((string?)("k" + i), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("api_" + i), fixture.EventSchemaId))));
        await SinkFixture.WaitForCountAsync(sink, "SELECT count(*) FROM events WHERE event_id LIKE 'api_%'", 120);
        await WaitAsync(async () =>
        {
            var offsets = (await BodyAsync(await http.GetAsync("/connectors/api-made/offsets")))["offsets"]!.AsArray();
            return offsets.Sum(o => (long)o!["offset"]!["kafka_offset"]!) == 120 && offsets.All(o => (string?)o!["partition"]!["kafka_topic"] == ownTopic);
        });

        using var updated = await http.PutAsync("/connectors/api-made/config", Json(config.Replace("\"2\"}", "\"1\"}", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Single((await BodyAsync(updated))["tasks"]!.AsArray());
        await AssertErrorAsync(await http.PutAsync("/connectors/api-made/config", Json("""{"name":"other"}""")), HttpStatusCode.BadRequest, "doesn't match");

        Assert.Equal(HttpStatusCode.Accepted, (await http.PutAsync("/connectors/api-made/pause", null)).StatusCode);
        await WaitForStateAsync(http, "api-made", "PAUSED", "PAUSED");
        Assert.Equal(HttpStatusCode.Accepted, (await http.PutAsync("/connectors/api-made/resume", null)).StatusCode);
        await WaitForStateAsync(http, "api-made", "RUNNING", "RUNNING");
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("/connectors/api-made/restart", null)).StatusCode);
        using var restarted = await http.PostAsync("/connectors/api-made/restart?includeTasks=true&onlyFailed=false", null);
        Assert.Equal(HttpStatusCode.Accepted, restarted.StatusCode);
        Assert.Equal("api-made", (string?)(await BodyAsync(restarted))["name"]);
        await AssertErrorAsync(await http.PostAsync("/connectors/api-made/restart?includeTasks=maybe", null), HttpStatusCode.BadRequest, "true or false");
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync("/connectors/api-made/stop", null)).StatusCode);
        var stopped = await BodyAsync(await http.GetAsync("/connectors/api-made/status"));
        Assert.Equal("STOPPED", (string?)stopped["connector"]!["state"]);
        Assert.Empty(stopped["tasks"]!.AsArray());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/connectors/api-made")).StatusCode);
        await AssertErrorAsync(await http.DeleteAsync("/connectors/api-made"), HttpStatusCode.NotFound, "not found");
        await AssertErrorAsync(await http.PutAsync("/connectors/api-made/pause", null), HttpStatusCode.NotFound, "not found");
    }

    [Fact]
    public async Task A_connector_naming_a_snowflake_account_writes_its_rows_and_offsets_there_through_the_sql_api()
    {
        await using var snowflake = await FakeSnowflake.StartAsync();
        var ownTopic = fixture.NewTopic(partitions: 2);
        await using var sink = await StartAsync(fixture.NewTopic(partitions: 1));
        using var http = SinkFixture.Client(sink);
        var connector = new JsonObject
        {
            ["name"] = "to-snowflake",
            ["config"] = new JsonObject
            {
                ["connector.class"] = "com.snowflake.kafka.connector.SnowflakeSinkConnector",
                ["topics"] = ownTopic,
                ["snowflake.url.name"] = snowflake.Url.ToString(),
                ["snowflake.account.name"] = FakeSnowflake.Account,
                ["snowflake.user.name"] = FakeSnowflake.User,
                ["snowflake.private.key"] = snowflake.PrivateKeyPem(),
                ["snowflake.database.name"] = "EVENTS_DB",
                ["snowflake.schema.name"] = "RAW",
                ["buffer.count.records"] = "25",
                ["buffer.flush.time"] = "0.2",
            },
        };

        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/connectors", Json(connector.ToJsonString()))).StatusCode);
        await fixture.ProduceAsync(ownTopic, Enumerable.Range(0, 60).Select(i => ((string?)("k" + i), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("sf_" + i), fixture.EventSchemaId))));

        await WaitAsync(() => Task.FromResult(snowflake.Offsets.Where(o => o.Key.Topic == ownTopic).Sum(o => o.Value) == 60));
        Assert.Equal(60, snowflake.Events.Keys.Count(k => k.StartsWith("sf_", StringComparison.Ordinal)));
        var offsets = (await BodyAsync(await http.GetAsync("/connectors/to-snowflake/offsets")))["offsets"]!.AsArray();
        Assert.Equal(60, offsets.Sum(o => (long)o!["offset"]!["kafka_offset"]!));
        // Nothing of this connector went to the embedded warehouse.
        Assert.Equal(0, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events WHERE event_id LIKE 'sf_%'"));
    }

    [Fact]
    public async Task Connector_configs_and_target_states_survive_a_restart_of_the_sink_and_a_deleted_default_stays_deleted()
    {
        var topic = fixture.NewTopic(partitions: 1);
        string defaultName;
        await using (var first = await StartAsync(topic))
        {
            using var http = SinkFixture.Client(first);
            defaultName = (string)(await BodyAsync(await http.GetAsync("/connectors"))).AsArray().Single()!;
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/connectors", Json($$$"""{"name":"kept","config":{"topics":"{{{topic}}}","tasks.max":"1"}}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await http.PutAsync("/connectors/kept/pause", null)).StatusCode);
            await first.StopAsync();
        }

        // No temporary file is left behind by the atomic writes.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_directory, "connect"), "*.tmp"));
        await using (var second = await fixture.StartSinkAsync(Path.Combine(_directory, "warehouse.duckdb"), topic, new Dictionary<string, string?>
        {
            ["Sink:ConnectorDirectory"] = Path.Combine(_directory, "connect"),
            // Not configured explicitly this time: the store is the truth.
            ["Sink:Connector:name"] = null,
            ["Sink:Connector:topics"] = null,
            ["Sink:Connector:buffer.count.records"] = null,
            ["Sink:Connector:buffer.flush.time"] = null,
        }))
        {
            using var http = SinkFixture.Client(second);
            var names = (await BodyAsync(await http.GetAsync("/connectors"))).AsArray().Select(n => (string?)n).ToList();
            Assert.Contains("kept", names);
            Assert.Contains(defaultName, names);
            var status = await BodyAsync(await http.GetAsync("/connectors/kept/status"));
            Assert.Equal("PAUSED", (string?)status["connector"]!["state"]);
            Assert.Equal(topic, (string?)(await BodyAsync(await http.GetAsync("/connectors/kept/config")))["topics"]);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/connectors/" + defaultName)).StatusCode);
            await second.StopAsync();
        }

        await using var third = await fixture.StartSinkAsync(Path.Combine(_directory, "warehouse.duckdb"), topic, new Dictionary<string, string?>
        {
            ["Sink:ConnectorDirectory"] = Path.Combine(_directory, "connect"),
            ["Sink:Connector:name"] = null,
            ["Sink:Connector:topics"] = null,
            ["Sink:Connector:buffer.count.records"] = null,
            ["Sink:Connector:buffer.flush.time"] = null,
        });
        using var client = SinkFixture.Client(third);
        Assert.Equal(["kept"], (await BodyAsync(await client.GetAsync("/connectors"))).AsArray().Select(n => (string?)n));
    }

    [Fact]
    public async Task Connector_routes_need_a_platform_token_and_refuse_others_with_401_in_connects_shape()
    {
        await using var sink = await StartAsync(fixture.NewTopic(partitions: 1));
        using var anonymous = SinkFixture.Client(sink, authenticated: false);

        using var none = await anonymous.GetAsync("/connectors");
        await AssertErrorAsync(none, HttpStatusCode.Unauthorized, "Bearer");
        Assert.Contains("Bearer", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", Testing.GatewayServer.Token("x", lifetime: TimeSpan.FromSeconds(-120)));
        await AssertErrorAsync(await anonymous.PostAsync("/connectors", Json(SeedConnectorJson)), HttpStatusCode.Unauthorized, "not valid");
        anonymous.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("admin:admin"u8.ToArray()));
        await AssertErrorAsync(await anonymous.DeleteAsync("/connectors/eventplatform-sink"), HttpStatusCode.Unauthorized, "Bearer");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/connector-plugins")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Hostile_requests_on_every_route_get_a_4xx_in_connects_error_shape_and_the_worker_keeps_serving()
    {
        await using var sink = await StartAsync(fixture.NewTopic(partitions: 1));
        using var http = SinkFixture.Client(sink);
        var random = new Random(1234);
        string[] names = ["a%2Fb", "..", "%2E%2E", "a%00b", "%FF%FE", "%ED%A0%80", "x/../../etc", new string('n', 300), "%20", "caf%C3%A9", "a b"];
        string[] suffixes = ["", "/config", "/status", "/tasks", "/pause", "/resume", "/stop", "/restart?includeTasks=%FF&onlyFailed=1", "/offsets"];
        var methods = new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch };
        var bodies = new List<Func<byte[]>>
        {
            () => RandomBytes(random, random.Next(0, 512)),
            () => [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x22, 0x78, 0x22, 0x7D],
            () => Encoding.UTF8.GetBytes("""{"name":"\ud800","config":{"topics":"\udc00x"}}"""),
            () => Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000)),
            () => Encoding.UTF8.GetBytes("""{"name":"deep","config":""" + new string('{', 100) + new string('}', 100) + "}"),
            () => new byte[ConnectApi.MaxBodyBytes + 10],
            () => Encoding.UTF8.GetBytes("""{"name":"../../x","config":{"topics":"t"}}"""),
            () => Encoding.UTF8.GetBytes("""{"name":"ok-name","config":{"topics":"bad topic!","tasks.max":"100000"}}"""),
            () => Encoding.UTF8.GetBytes("""{"name":"n\u0000ul","config":{"topics":"t"}}"""),
            () => Encoding.UTF8.GetBytes("""{"name":"cls","config":{"connector.class":"org.Evil"}}"""),
            () => Encoding.UTF8.GetBytes("""{"name":"nums","config":{"tasks.max":1e400,"topics":["a"]}}"""),
        };

        for (var i = 0; i < 400; i++)
        {
            var path = (random.Next(4)) switch
            {
                0 => "/connectors/" + names[random.Next(names.Length)] + suffixes[random.Next(suffixes.Length)],
                1 => "/connectors" + (random.Next(2) == 0 ? "" : "?expand=" + names[random.Next(names.Length)]),
                2 => "/connectors/eventplatform-sink" + suffixes[random.Next(suffixes.Length)].Replace("/pause", "/status", StringComparison.Ordinal).Replace("/stop", "/tasks", StringComparison.Ordinal),
                _ => "/" + names[random.Next(names.Length)],
            };
            using var request = new HttpRequestMessage(methods[random.Next(methods.Length)], path);
            if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Delete)
            {
                request.Content = new ByteArrayContent(bodies[random.Next(bodies.Count)]());
                request.Content.Headers.ContentType = new("application/json");
            }

            using var response = await http.SendAsync(request);
            var code = (int)response.StatusCode;
            Assert.True(code < 500, $"{request.Method} {path} answered {code}: {await response.Content.ReadAsStringAsync()}");
            if (code >= 400)
            {
                var text = await response.Content.ReadAsStringAsync();
                if (text.Length == 0 && code == 400 && path.Contains("%00", StringComparison.Ordinal))
                {
                    // Kestrel itself refuses a NUL in the path before any application code runs: no body of ours.
                    continue;
                }

                Assert.True(text.Length > 0, $"{request.Method} {path} answered {code} without a body.");
                var error = JsonNode.Parse(text)!;
                Assert.Equal(code, (int?)error["error_code"]);
                Assert.False(string.IsNullOrEmpty((string?)error["message"]));
            }
        }

        // Whatever got created in the process is a valid connector; the default one still runs.
        var status = await BodyAsync(await http.GetAsync("/connectors/eventplatform-sink/status".Replace("eventplatform-sink", (string)(await BodyAsync(await http.GetAsync("/connectors"))).AsArray()[0]!, StringComparison.Ordinal)));
        Assert.NotNull(status["connector"]);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonNode> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("Empty body: " + response.StatusCode);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode expected, string messagePart)
    {
        var body = await BodyAsync(response);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal((int)expected, (int?)body["error_code"]);
        Assert.Contains(messagePart, (string?)body["message"], StringComparison.Ordinal);
    }

    private static async Task WaitForStateAsync(HttpClient http, string name, string connectorState, string taskState) =>
        await WaitAsync(async () =>
        {
            var status = await BodyAsync(await http.GetAsync($"/connectors/{name}/status"));
            return (string?)status["connector"]!["state"] == connectorState && status["tasks"]!.AsArray().All(t => (string?)t!["state"] == taskState);
        });

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(50);
        }
    }
}
