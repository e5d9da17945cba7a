using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// A gateway of its own (so that its counts move only by what these tests send), with librdkafka
/// statistics every 200 ms so the producer metrics show up quickly.
/// </summary>
public sealed class MetricsGatewayFixture : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public GatewayServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Server = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Kafka:Producer:StatisticsIntervalMs"] = "200",
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

public sealed class MetricsTests(MetricsGatewayFixture fixture) : IClassFixture<MetricsGatewayFixture>
{
    private const string EventsRoute = "/api/v1/events/{topic}";
    private const string BatchRoute = "/api/v1/events/{topic}/batch";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(15);

    private HttpClient Client => fixture.Server.Client;

    private static string NewId() => "evt_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Posted_events_move_the_seed_http_metrics_under_the_route_template()
    {
        var before = await PrometheusScrape.TakeAsync(Client);
        (string, string)[] ok = [("method", "POST"), ("route", EventsRoute), ("status", "200")];
        const int Posted = 7;

        // Different raw paths, one route template: the label never carries the path's topic.
        for (var i = 0; i < Posted; i++)
        {
            var path = i % 2 == 0 ? "api/v1/events/iot.sensors" : "api/v1/events/events.iot.sensors";
            var response = await Client.PostAsync(path, TestEvents.Json(TestEvents.Iot(NewId(), deviceId: $"device_{i}")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var after = await WaitForAsync(s => s.ValueOrZero("http_requests_total", ok) - before.ValueOrZero("http_requests_total", ok) >= Posted);

        Assert.Equal(Posted, after.ValueOrZero("http_requests_total", ok) - before.ValueOrZero("http_requests_total", ok));
        Assert.Equal(Posted, after.ValueOrZero("http_request_duration_seconds_count", ok) - before.ValueOrZero("http_request_duration_seconds_count", ok));
        Assert.True(after.ValueOrZero("http_request_duration_seconds_sum", ok) > before.ValueOrZero("http_request_duration_seconds_sum", ok));
        Assert.Equal(after.Value("http_request_duration_seconds_count", ok), after.Value("http_request_duration_seconds_bucket", [.. ok, ("le", "+Inf")]));
        Assert.Equal(0, after.Value("http_requests_in_progress", ("method", "POST"), ("route", EventsRoute)));

        var routes = after.LabelsOf("http_requests_total").Select(l => l["route"]).ToHashSet();
        Assert.DoesNotContain(routes, r => r.Contains("iot.sensors", StringComparison.Ordinal));
        Assert.All(after.LabelsOf("http_requests_total"), l => Assert.Equal(["method", "route", "status"], l.Keys.Order()));
        Assert.All(after.LabelsOf("http_requests_in_progress"), l => Assert.Equal(["method", "route"], l.Keys.Order()));
    }

    [Fact]
    public async Task Requests_that_match_no_endpoint_get_route_unmatched_and_the_scrape_is_not_counted()
    {
        var before = await PrometheusScrape.TakeAsync(Client);
        (string, string)[] notFound = [("method", "GET"), ("route", "unmatched"), ("status", "404")];

        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("no/such/route/" + Guid.NewGuid().ToString("N"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("another/" + Guid.NewGuid().ToString("N"))).StatusCode);
        await PrometheusScrape.TakeAsync(Client);

        var after = await WaitForAsync(s => s.ValueOrZero("http_requests_total", notFound) - before.ValueOrZero("http_requests_total", notFound) >= 2);
        Assert.Equal(2, after.ValueOrZero("http_requests_total", notFound) - before.ValueOrZero("http_requests_total", notFound));
        Assert.DoesNotContain(after.LabelsOf("http_requests_total"), l => l["route"] == "/metrics");
        Assert.DoesNotContain(after.LabelsOf("http_requests_in_progress"), l => l["route"] == "/metrics");
    }

    [Fact]
    public async Task Published_and_rejected_events_are_counted_by_topic_and_error_code()
    {
        var before = await PrometheusScrape.TakeAsync(Client);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("api/v1/events/transactions", TestEvents.Json(TestEvents.Of("transaction", NewId(), userId: $"u{i}")))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsync("api/v1/events/transactions", TestEvents.Json(new JsonObject { ["event_id"] = "only-an-id" }))).StatusCode);
        var batch = new JsonArray(
            TestEvents.Of("transaction", NewId(), userId: "u9"),
            TestEvents.Of("clickstream", NewId(), userId: "u9"),
            new JsonObject { ["event_id"] = "bad" });
        Assert.Equal(HttpStatusCode.MultiStatus, (await Client.PostAsync("api/v1/events/transactions/batch", TestEvents.Json(batch))).StatusCode);

        (string, string) topic = ("topic", "events.transactions");
        var after = await WaitForAsync(s => s.ValueOrZero("events_published_total", topic) - before.ValueOrZero("events_published_total", topic) >= 4);

        Assert.Equal(4, after.ValueOrZero("events_published_total", topic) - before.ValueOrZero("events_published_total", topic));
        Assert.Equal(4, after.ValueOrZero("event_publish_duration_seconds_count", topic) - before.ValueOrZero("event_publish_duration_seconds_count", topic));
        Assert.Equal(2, Delta(before, after, "events_rejected_total", ("error_code", "INVALID_EVENT")));
        Assert.Equal(1, Delta(before, after, "events_rejected_total", ("error_code", "TOPIC_MISMATCH")));
        Assert.Equal(1, Delta(before, after, "http_requests_total", ("method", "POST"), ("route", BatchRoute), ("status", "207")));
        Assert.Equal(1, Delta(before, after, "http_requests_total", ("method", "POST"), ("route", EventsRoute), ("status", "400")));
        Assert.Equal(0, after.Value("kafka_publish_retries_total"));
        Assert.Equal(0, after.Value("kafka_publish_failures_total"));
    }

    [Fact]
    public async Task Kafka_producer_metrics_appear_after_a_statistics_interval()
    {
        (string, string) client = ("client_id", GatewayServiceCollectionExtensions.KafkaClientId);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("api/v1/events/clickstream", TestEvents.Json(TestEvents.Of("clickstream", NewId(), userId: $"u{i}")))).StatusCode);
        }

        var scrape = await WaitForAsync(s => s.ValueOrZero("kafka_producer_record_send_total", client) >= 5 && s.ValueOrZero("kafka_producer_brokers_up", client) >= 1);

        foreach (var name in new[]
                 {
                     "kafka_producer_record_send_rate", "kafka_producer_record_error_rate", "kafka_producer_byte_rate", "kafka_producer_outgoing_byte_rate",
                     "kafka_producer_request_latency_avg", "kafka_producer_request_latency_max", "kafka_producer_queue_depth", "kafka_producer_queue_bytes",
                     "kafka_producer_brokers_up", "kafka_producer_record_send_total", "kafka_producer_record_error_total",
                 })
        {
            var value = scrape.Value(name, client);
            Assert.True(value is >= 0, $"{name} = {value}");
        }

        Assert.Contains("# TYPE kafka_producer_record_send_total counter", scrape.Text, StringComparison.Ordinal);
        Assert.Contains("# TYPE kafka_producer_record_send_rate gauge", scrape.Text, StringComparison.Ordinal);
        Assert.InRange(scrape.ValueOrZero("kafka_producer_brokers_up", client), 1, 3);
        Assert.Equal(0, scrape.Value("kafka_producer_record_error_total", client));
    }

    [Fact]
    public async Task Service_metrics_json_reports_counts_rates_latency_and_errors_by_code()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var before = await GetServiceMetricsAsync(anonymous);
        const int Posted = 6;

        for (var i = 0; i < Posted; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot(NewId(), deviceId: $"json_{i}")))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(new JsonObject { ["event_id"] = "deliberately-bad" }))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot(NewId())))).StatusCode);

        var after = await WaitForJsonAsync(anonymous, m => (long)m["events_published_total"]! - (long)before["events_published_total"]! >= Posted
            && (long)m["producer_queue_depth"]! >= 0);

        foreach (var field in new[]
                 {
                     "uptime_seconds", "window_seconds", "requests_total", "requests_per_second", "events_published_total", "events_per_second",
                     "errors_total", "errors_by_code", "latency_ms", "producer_queue_depth", "kafka_connected",
                 })
        {
            Assert.True(after.ContainsKey(field), $"missing {field}: {after.ToJsonString()}");
        }

        Assert.Equal(Posted, (long)after["events_published_total"]! - (long)before["events_published_total"]!);
        Assert.True((long)after["requests_total"]! - (long)before["requests_total"]! >= Posted + 2);
        Assert.Equal(1, Count(after, "INVALID_EVENT") - Count(before, "INVALID_EVENT"));
        Assert.Equal(1, Count(after, "AUTHENTICATION_REQUIRED") - Count(before, "AUTHENTICATION_REQUIRED"));
        Assert.Equal(2, (long)after["errors_total"]! - (long)before["errors_total"]!);
        Assert.Equal((long)after["errors_total"]!, after["errors_by_code"]!.AsObject().Sum(kv => (long)kv.Value!));

        Assert.Equal(60, (int)after["window_seconds"]!);
        Assert.True((double)after["uptime_seconds"]! > 0);
        Assert.True((double)after["requests_per_second"]! > 0);
        Assert.True((double)after["events_per_second"]! > 0);
        Assert.True((bool)after["kafka_connected"]!);

        var latency = after["latency_ms"]!.AsObject();
        Assert.True((long)latency["count"]! >= Posted + 2);
        var (p50, p95, p99, max) = ((double)latency["p50"]!, (double)latency["p95"]!, (double)latency["p99"]!, (double)latency["max"]!);
        Assert.True(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= max, latency.ToJsonString());
    }

    private static long Count(JsonObject metrics, string code) => (long?)metrics["errors_by_code"]![code] ?? 0;

    private static double Delta(PrometheusScrape before, PrometheusScrape after, string name, params (string, string)[] labels) =>
        after.ValueOrZero(name, labels) - before.ValueOrZero(name, labels);

    private static async Task<JsonObject> GetServiceMetricsAsync(HttpClient client)
    {
        var response = await client.GetAsync("api/v1/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private static async Task<JsonObject> WaitForJsonAsync(HttpClient client, Func<JsonObject, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await GetServiceMetricsAsync(client);
            if (metrics["producer_queue_depth"] is not null && done(metrics))
            {
                return metrics;
            }

            Assert.True(clock.Elapsed < Within, "condition not reached in time: " + metrics.ToJsonString());
            await Task.Delay(50);
        }
    }

    /// <summary>Counts move when a response has finished, a moment after the client has it: scrape until they have.</summary>
    private async Task<PrometheusScrape> WaitForAsync(Func<PrometheusScrape, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var scrape = await PrometheusScrape.TakeAsync(Client);
            if (done(scrape))
            {
                return scrape;
            }

            Assert.True(clock.Elapsed < Within, "condition not reached in time:\n" + scrape.Text);
            await Task.Delay(50);
        }
    }
}
