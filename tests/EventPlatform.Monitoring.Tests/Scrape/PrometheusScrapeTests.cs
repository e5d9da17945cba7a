namespace EventPlatform.Monitoring.Tests.Scrape;

/// <summary>
/// The deployed Prometheus configuration, rules and Grafana dashboards against a running platform
/// under load (issue 12, items 3 and 4): what a person would see, not only what parses.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PrometheusScrapeTests(PlatformUnderPrometheus platform) : IClassFixture<PlatformUnderPrometheus>
{
    private static readonly TimeSpan DataTimeout = TimeSpan.FromSeconds(25);

    [PrometheusFact]
    public async Task Every_recording_and_alerting_rule_evaluates_and_is_healthy()
    {
        var groups = await platform.Prometheus.RulesAsync();
        var rules = groups.EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
        Assert.NotEmpty(rules);
        foreach (var rule in rules)
        {
            var query = rule.GetProperty("query").GetString()!;
            // Throws with Prometheus' message when the expression does not evaluate.
            await platform.Prometheus.QueryAsync(query);
        }

        // The rule manager evaluates them every second too: none may report an error.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        List<string> unhealthy;
        do
        {
            groups = await platform.Prometheus.RulesAsync();
            unhealthy = [.. groups.EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Where(r => r.GetProperty("health").GetString() != "ok")
                .Select(r => $"{r.GetProperty("name").GetString()}: {r.GetProperty("health").GetString()} {(r.TryGetProperty("lastError", out var e) ? e.GetString() : null)}")];
        }
        while (unhealthy.Count > 0 && DateTime.UtcNow < deadline && await Delay());

        Assert.Empty(unhealthy);
    }

    [PrometheusFact]
    public async Task The_key_series_have_data()
    {
        string[] keySeries =
        [
            "http_requests_total{job=\"gateway\"}",
            "http_request_duration_seconds_bucket{job=\"gateway\"}",
            "kafka_consumergroup_lag{consumergroup=\"default-job\"}",
            "kafka_consumergroup_lag{consumergroup=\"connect-eventplatform-sink\"}",
            "kafka_consumer_lag_seconds{consumergroup=\"default-job\"}",
            "kafka_consumer_lag_seconds{consumergroup=\"connect-eventplatform-sink\"}",
            "eventplatform_pipeline_stage_lag_seconds{stage=\"processor\"}",
            "eventplatform_pipeline_stage_lag_seconds{stage=\"sink\"}",
            "flink_taskmanager_job_task_operator_records_consumed_total{job=\"processor\"}",
            "sink_rows_written_total{job=\"sink\"} > 0",
            "eventplatform_dlq_messages{topic=\"events.dlq\"} > 0",
            "up{job=\"kafka-exporter\"} == 1",
        ];
        var missing = new List<string>();
        foreach (var series in keySeries)
        {
            if ((await platform.Prometheus.WaitForDataAsync(series, DataTimeout)).GetArrayLength() == 0)
            {
                missing.Add(series);
            }
        }

        Assert.True(missing.Count == 0, $"No data for: {string.Join(", ", missing)} ({platform.Accepted} events accepted)");
    }

    [PrometheusFact]
    public async Task Every_Grafana_panel_query_returns_data()
    {
        var queries = GrafanaDashboards.Load().SelectMany(d => d.Queries.Select(q => (d.Title, q.Panel, q.Expression))).ToList();
        Assert.True(queries.Count >= 20, $"only {queries.Count} panel queries");
        var empty = new List<string>();
        foreach (var (dashboard, panel, expression) in queries)
        {
            var promQl = GrafanaDashboards.Substitute(expression);
            if ((await platform.Prometheus.WaitForDataAsync(promQl, DataTimeout)).GetArrayLength() == 0)
            {
                empty.Add($"{dashboard} / {panel}: {promQl}");
            }
        }

        Assert.True(empty.Count == 0, "Panels without data:\n" + string.Join("\n", empty));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(500);
        return true;
    }
}
