using System.Net;
using System.Text.RegularExpressions;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests;

/// <summary>The <c>monitor</c> service end to end: what a Prometheus scrape of :9308/metrics gets, and its readiness.</summary>
[Collection(MonitorCollection.Name)]
public sealed partial class MonitorServiceTests(EmbeddedKafkaFixture kafka)
{
    [Fact]
    public async Task The_scrape_reports_lag_in_messages_and_seconds_with_kafka_exporters_names()
    {
        var topic = "scrape-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(topic, 1, 1);
        var first = DateTimeOffset.UtcNow.AddMinutes(-30);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 0, 8, first);
        ClusterActions.Commit(kafka.BootstrapServers, group, topic, 0, 5);
        await using var monitor = await MonitorHost.StartAsync(kafka.BootstrapServers, group);

        var lagSeries = $"kafka_consumergroup_lag{{consumergroup=\"{group}\",topic=\"{topic}\",partition=\"0\"}}";
        var text = await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http), t => ClusterActions.Sample(t, lagSeries) is not null, TimeSpan.FromSeconds(10), lagSeries);
        var scrapedAt = DateTimeOffset.UtcNow;

        Assert.Equal(3, ClusterActions.Sample(text, lagSeries));
        Assert.Equal(5, ClusterActions.Sample(text, $"kafka_consumergroup_current_offset{{consumergroup=\"{group}\",topic=\"{topic}\",partition=\"0\"}}"));
        Assert.Equal(8, ClusterActions.Sample(text, $"kafka_topic_partition_current_offset{{topic=\"{topic}\",partition=\"0\"}}"));
        Assert.Equal(0, ClusterActions.Sample(text, $"kafka_topic_partition_oldest_offset{{topic=\"{topic}\",partition=\"0\"}}"));
        Assert.Equal(1, ClusterActions.Sample(text, $"kafka_topic_partitions{{topic=\"{topic}\"}}"));
        Assert.Equal(3, ClusterActions.Sample(text, "kafka_brokers"));
        Assert.Equal(0, ClusterActions.Sample(text, "eventplatform_dlq_messages{topic=\"events.dlq\"}"));
        // The record at the committed offset (5) was written at first + 5 s; the reading was taken before the scrape, after the writes.
        var lagSeconds = ClusterActions.Sample(text, $"kafka_consumer_lag_seconds{{consumergroup=\"{group}\",topic=\"{topic}\",partition=\"0\"}}")!.Value;
        Assert.InRange(lagSeconds, (scrapedAt - first.AddSeconds(5)).TotalSeconds - 15, (scrapedAt - first.AddSeconds(5)).TotalSeconds);

        // A second poll gives the rates: nothing consumed, nothing produced, so the lag does not shrink.
        var catchUp = $"kafka_consumergroup_catchup_seconds{{consumergroup=\"{group}\"}}";
        text = await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http), t => ClusterActions.Sample(t, catchUp) is not null, TimeSpan.FromSeconds(10), catchUp);
        Assert.Equal(double.PositiveInfinity, ClusterActions.Sample(text, catchUp));
        Assert.Equal(0, ClusterActions.Sample(text, $"kafka_server_broker_topic_metrics_messages_in_per_sec{{topic=\"{topic}\"}}"));
        using var ready = await monitor.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Group_and_topic_names_with_odd_characters_keep_the_exposition_valid()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var topic = "odd.topic_name-" + suffix;
        string[] groups =
        [
            "quote\"group-" + suffix,
            "back\\slash-" + suffix,
            "new\nline-" + suffix,
            "brace}{=,group " + suffix,
            "ünïcödé ☃ 组-" + suffix,
            "#hash # TYPE x gauge-" + suffix,
            .. RandomNames(seed: 20261203, count: 8, suffix),
        ];
        kafka.Cluster.CreateTopic(topic, 2, 1);
        await ClusterActions.ProduceAsync(kafka.BootstrapServers, topic, 1, 4, DateTimeOffset.UtcNow.AddMinutes(-1));
        foreach (var group in groups)
        {
            ClusterActions.Commit(kafka.BootstrapServers, group, topic, 1, 1);
        }

        await using var monitor = await MonitorHost.StartAsync(kafka.BootstrapServers, groups);
        string LagSeries(string group) => $"kafka_consumergroup_lag{{consumergroup=\"{Escape(group)}\",topic=\"{topic}\",partition=\"1\"}}";
        var text = await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http),
            t => groups.All(g => ClusterActions.Sample(t, LagSeries(g)) == 3),
            TimeSpan.FromSeconds(10), "every odd group's lag", t => "missing: " + string.Join(" | ", groups.Where(g => ClusterActions.Sample(t, LagSeries(g)) != 3).Select(LagSeries))
                + "\nserved: " + string.Join("\n", t.Split('\n').Where(l => l.StartsWith("kafka_consumergroup_lag{", StringComparison.Ordinal))));

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(line.StartsWith('#') ? CommentLine().IsMatch(line) : SampleLine().IsMatch(line), "not a valid exposition line: " + line);
        }

        if (Promtool.Path is { } promtool)
        {
            var check = await Promtool.RunAsync(promtool, ["check", "metrics"], stdin: text);
            // promtool's lint may comment on naming (exit 3 lists such problems); a parse error is a failure (exit 1).
            Assert.True(check.ExitCode is 0 or 3, check.Output);
            Assert.DoesNotContain("error while linting", check.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_broker_outage_sets_kafka_brokers_to_zero_and_readiness_false_until_it_returns()
    {
        using var cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null, GroupInitialRebalanceDelay = TimeSpan.Zero });
        cluster.CreateTopic("events.dlq", 2, 1);
        await ClusterActions.ProduceAsync(cluster.BrokerBootstrapServers, "events.dlq", 0, 3, DateTimeOffset.UtcNow);
        await using var monitor = await MonitorHost.StartAsync(cluster.BootstrapServers);
        var up = await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http), t => ClusterActions.Sample(t, "kafka_brokers") == 3, TimeSpan.FromSeconds(10), "kafka_brokers 3");
        Assert.Equal(3, ClusterActions.Sample(up, "eventplatform_dlq_messages{topic=\"events.dlq\"}"));
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync(monitor));

        cluster.SetAllBrokersDown();

        var down = await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http), t => ClusterActions.Sample(t, "kafka_brokers") == 0, TimeSpan.FromSeconds(30), "kafka_brokers 0");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync(monitor));
        // Nothing stale is served while the cluster cannot be read.
        Assert.Null(ClusterActions.Sample(down, "eventplatform_dlq_messages{topic=\"events.dlq\"}"));

        cluster.SetAllBrokersUp();

        // Generous: librdkafka reconnects with backoff, and CI runs this beside whole platforms under load
        // (a 15 s wait once timed out there). The readiness body says what the last poll met.
        await ClusterActions.EventuallyAsync(() => ClusterActions.ScrapeAsync(monitor.Http), t => ClusterActions.Sample(t, "kafka_brokers") == 3, TimeSpan.FromSeconds(60), "kafka_brokers 3 again",
            t => $"kafka_brokers {ClusterActions.Sample(t, "kafka_brokers")}; readiness: {ReadinessBodyAsync(monitor).GetAwaiter().GetResult()}");
        await ClusterActions.EventuallyAsync(() => ReadinessAsync(monitor), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "ready again");
    }

    private static async Task<string> ReadinessBodyAsync(MonitorHost monitor)
    {
        using var response = await monitor.Http.GetAsync("/health/ready");
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    private static async Task<HttpStatusCode> ReadinessAsync(MonitorHost monitor)
    {
        using var response = await monitor.Http.GetAsync("/health/ready");
        return response.StatusCode;
    }

    /// <summary>Group ids drawn from characters that matter to the exposition format (escapes, separators, control and non-ASCII text).</summary>
    private static IEnumerable<string> RandomNames(int seed, int count, string suffix)
    {
        string[] alphabet = ["\\", "\"", "\n", "\r", "\t", "{", "}", "=", ",", "#", " ", "ü", "☃", "组", "😀", "a", "Z", "0", ".", "_", "-"];
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(1, 12);
            // Not leading whitespace: librdkafka trims it from a group.id, so no librdkafka client could make such a group.
            yield return "g" + string.Concat(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])) + "-" + i + "-" + suffix;
        }
    }

    /// <summary>A label value as the text exposition format writes it.</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    [GeneratedRegex("""^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$""")]
    private static partial Regex CommentLine();

    // prometheus-net writes an infinite gauge as "Infinity"; Prometheus' parser (Go's ParseFloat) reads it as +Inf.
    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (NaN|[+-]Inf|[+-]?Infinity|[-+0-9.eE]+)( [0-9]+)?$""")]
    private static partial Regex SampleLine();
}
