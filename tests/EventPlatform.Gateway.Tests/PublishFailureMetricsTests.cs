using System.Diagnostics;
using System.Net;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Retries and failures are counted when Kafka is away. Its own broker, which it takes down, and
/// short timeouts so that the three attempts take well under a second.
/// </summary>
public sealed class PublishFailureMetricsTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:PublishBaseDelay"] = "00:00:00",
            ["Kafka:Producer:MessageTimeout"] = "00:00:01",
            ["Kafka:Producer:StatisticsIntervalMs"] = "100",
            // Counts the publisher's own retries; an idempotency claim would refuse the outage first.
            ["Gateway:Idempotency:Enabled"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    [Fact]
    public async Task Each_failed_attempt_is_a_retry_or_a_failure_and_a_producer_record_error()
    {
        var client = _gateway.Client;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_before_outage")))).StatusCode);

        // On a busy machine the first publish may itself need a retry: count from here.
        (string, string) producer = ("client_id", GatewayServiceCollectionExtensions.KafkaClientId);
        var baseline = await PrometheusScrape.TakeAsync(client);
        double Delta(PrometheusScrape now, string name, params (string, string)[] labels) => now.ValueOrZero(name, labels) - baseline.ValueOrZero(name, labels);

        _kafka.Cluster.SetAllBrokersDown();
        var response = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot("evt_during_outage")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, (int)(await response.JsonAsync())["details"]!["attempts"]!);

        var clock = Stopwatch.StartNew();
        PrometheusScrape scrape;
        while (true)
        {
            scrape = await PrometheusScrape.TakeAsync(client);
            if (Delta(scrape, "kafka_producer_record_error_total", producer) >= 3 || clock.Elapsed > TimeSpan.FromSeconds(15))
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(2, Delta(scrape, "kafka_publish_retries_total"));
        Assert.Equal(1, Delta(scrape, "kafka_publish_failures_total"));
        Assert.Equal(1, scrape.Value("events_rejected_total", ("error_code", "KAFKA_UNAVAILABLE")));
        Assert.Equal(1, scrape.Value("events_published_total", ("topic", "events.iot.sensors")));
        Assert.Equal(3, Delta(scrape, "kafka_producer_record_error_total", producer));
        Assert.Equal(1, scrape.Value("http_requests_total", ("method", "POST"), ("route", "/api/v1/events/{topic}"), ("status", "503")));

        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseAddress };
        var metrics = await (await anonymous.GetAsync("api/v1/metrics")).JsonAsync();
        Assert.Equal(1, (long)metrics["errors_by_code"]!["KAFKA_UNAVAILABLE"]!);
        Assert.Equal(1, (long)metrics["events_published_total"]!);
    }
}
