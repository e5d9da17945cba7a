using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Sink.Destinations;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Sink.Tests;

/// <summary>
/// What a person sees of a running sink: <c>/query</c> (one read-only SELECT through the process that
/// holds the DuckDB file), the end-to-end latency histogram on <c>/metrics</c>, and a setup error
/// shown as a FAILED task that recovers by itself without sending records to the DLQ.
/// </summary>
public sealed class QueryAndStatusTests(SinkFixture fixture) : IClassFixture<SinkFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sink-query-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Database => Path.Combine(_directory, "warehouse.duckdb");

    private Dictionary<string, string?> Settings => new() { ["Sink:ConnectorDirectory"] = Path.Combine(_directory, "connect") };

    [Fact]
    public async Task Query_runs_one_select_while_the_sink_writes_refuses_anything_else_and_metrics_show_the_end_to_end_latency()
    {
        var topic = fixture.NewTopic(partitions: 2);
        await fixture.ProduceAsync(topic, Enumerable.Range(0, 40).Select(i => ((string?)("k" + i), SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("q_" + i), fixture.EventSchemaId))));
        await using var sink = await fixture.StartSinkAsync(Database, topic, Settings);
        await SinkFixture.WaitForCountAsync(sink, "SELECT count(*) FROM events", 40);
        using var http = SinkFixture.Client(sink);

        var answer = await QueryAsync(http, """{"sql":"SELECT event_type, count(*) AS n FROM events GROUP BY 1","max_rows":10}""", HttpStatusCode.OK);
        Assert.Equal(["event_type", "n"], answer["columns"]!.AsArray().Select(c => (string?)c));
        Assert.Equal("iot.sensor", (string?)answer["rows"]![0]![0]);
        Assert.Equal(40, (long)answer["rows"]![0]![1]!);
        var limited = await QueryAsync(http, """{"sql":"SELECT event_id FROM events","max_rows":5}""", HttpStatusCode.OK);
        Assert.Equal(5, limited["rows"]!.AsArray().Count);
        Assert.True((bool)limited["truncated"]!);

        foreach (var refused in new[]
        {
            """{"sql":"DELETE FROM events"}""",
            """{"sql":"SELECT 1; DROP TABLE events"}""",
            """{"sql":"SELECT * FROM read_text('/etc/passwd')"}""",
            """{"sql":"COPY events TO '/tmp/x.csv'"}""",
            """{"sql":"SELECT nothing FROM nowhere"}""",
            """{"sql":"SELECT 1","max_rows":0}""",
            "not json",
        })
        {
            var error = await QueryAsync(http, refused, HttpStatusCode.BadRequest);
            Assert.Equal(400, (int?)error["error_code"]);
        }

        // A query that never ends (or a deeply nested one) is stopped with a 4xx; the sink keeps serving.
        var endless = await QueryAsync(http, """{"sql":"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"}""", HttpStatusCode.RequestTimeout);
        Assert.Equal(408, (int?)endless["error_code"]);
        var nested = "{\"sql\":\"SELECT " + new string('(', 20_000) + "1" + new string(')', 20_000) + "\"}";
        Assert.Equal(400, (int?)(await QueryAsync(http, nested, HttpStatusCode.BadRequest))["error_code"]);

        // One value of 50 MB, or 10,000 rows of 2,000 characters, is more than a result may hold: 413, and the sink goes on.
        // (500 MB once took longer than the 10 s query timeout to build on a loaded CI machine: a 408, also refused.)
        var huge = await QueryAsync(http, """{"sql":"SELECT repeat('x', 50000000)"}""", HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(413, (int?)huge["error_code"]);
        Assert.Contains("more than 16,777,216 bytes after 1 rows", (string?)huge["message"], StringComparison.Ordinal);
        var wide = await QueryAsync(http, """{"sql":"SELECT repeat('x', 2000) FROM range(10000)","max_rows":10000}""", HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("more than 16,777,216 bytes", (string?)wide["message"], StringComparison.Ordinal);
        Assert.Single((await QueryAsync(http, """{"sql":"SELECT count(*) FROM range(10)","max_rows":1}""", HttpStatusCode.OK))["rows"]!.AsArray());

        Assert.Equal(40, await SinkFixture.CountAsync(sink, "SELECT count(*) FROM events"));
        using var anonymous = SinkFixture.Client(sink, authenticated: false);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/query", new StringContent("""{"sql":"SELECT 1"}""", Encoding.UTF8, "application/json"))).StatusCode);

        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("eventplatform_end_to_end_latency_seconds_bucket{le=\"", metrics, StringComparison.Ordinal);
        var count = metrics.Split('\n').Single(l => l.StartsWith("eventplatform_end_to_end_latency_seconds_count", StringComparison.Ordinal));
        Assert.True(double.Parse(count.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 40, count);
    }

    [Fact]
    public async Task A_setup_error_shows_the_task_failed_with_the_reason_sends_nothing_to_the_dlq_and_recovers_when_fixed()
    {
        var topic = fixture.NewTopic(partitions: 1);
        await fixture.ProduceAsync(topic, Enumerable.Range(0, 30).Select(i => ((string?)null, SinkTestRecords.EncodeEvent(SinkTestRecords.EventJson("setup_" + i), fixture.EventSchemaId))));
        var broken = 1;
        await using var sink = await fixture.StartSinkAsync(Database, topic, Settings, services => services.AddSingleton<IWarehouseDestination>(_ =>
            new SinkFixture.Flaky(new DuckDbDestination(Database), rows =>
                rows.Count > 0 && Volatile.Read(ref broken) == 1 ? new DestinationException(DestinationErrorKind.Setup, "injected: table EVENTS does not exist or not authorized") : null)));
        using var http = SinkFixture.Client(sink);
        var name = (string)JsonNode.Parse(await http.GetStringAsync("/connectors"))!.AsArray()[0]!;

        var failed = await WaitForTaskAsync(http, name, "FAILED");
        Assert.Contains("Setup error", (string?)failed["trace"], StringComparison.Ordinal);
        Assert.Contains("does not exist", (string?)failed["trace"], StringComparison.Ordinal);
        var notReady = await WaitForReadinessAsync(http, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", (string?)notReady["checks"]!["connectors"]!["status"]);
        Assert.Contains("FAILED", (string?)notReady["checks"]!["connectors"]!["description"], StringComparison.Ordinal);
        Volatile.Write(ref broken, 0);
        await SinkFixture.WaitForCountAsync(sink, "SELECT count(*) FROM events", 30);
        await WaitForTaskAsync(http, name, "RUNNING");
        var ready = await WaitForReadinessAsync(http, HttpStatusCode.OK);
        Assert.Equal("Healthy", (string?)ready["checks"]!["connectors"]!["status"]);
        Assert.Empty(await fixture.DeadLettersAsync(topic));
    }

    /// <summary>Waits until <c>/health/ready</c> answers <paramref name="status"/>; returns its JSON report.</summary>
    private static async Task<JsonNode> WaitForReadinessAsync(HttpClient http, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await http.GetAsync("/health/ready");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == status)
            {
                return JsonNode.Parse(body)!;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Readiness did not become {(int)status}: {(int)response.StatusCode} {body}");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonNode> QueryAsync(HttpClient http, string body, HttpStatusCode expected)
    {
        using var response = await http.PostAsync("/query", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{body} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task<JsonNode> WaitForTaskAsync(HttpClient http, string connector, string state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var task = JsonNode.Parse(await http.GetStringAsync($"/connectors/{connector}/status"))!["tasks"]!.AsArray().FirstOrDefault();
            if ((string?)task?["state"] == state)
            {
                return task!;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The task did not become {state}: {task?.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}
