namespace EventPlatform.Monitoring.Tests.Scrape;

/// <summary>The provisioned dashboards' shape: what Grafana needs to load them with any Prometheus datasource.</summary>
public sealed class GrafanaDashboardTests
{
    [Fact]
    public void The_seed_s_five_dashboards_are_provisioned_each_with_a_datasource_variable()
    {
        var dashboards = GrafanaDashboards.Load();
        Assert.Equal(
            ["Event platform / API performance", "Event platform / Consumer lag", "Event platform / Kafka overview", "Event platform / Stream processing", "Event platform / System health"],
            dashboards.Select(d => d.Title).Order(StringComparer.Ordinal));
        Assert.All(dashboards, d =>
        {
            Assert.Contains(("datasource", "datasource"), d.Variables);
            Assert.NotEmpty(d.Queries);
        });
        Assert.Equal(dashboards.Count, dashboards.Select(d => d.Uid).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Every_panel_uses_the_datasource_variable()
    {
        foreach (var file in Directory.GetFiles(GrafanaDashboards.Directory, "*.json"))
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
            {
                Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            }
        }
    }
}
