using System.Text.Json;

namespace EventPlatform.Monitoring.Tests.Scrape;

/// <summary>The provisioned dashboards of <c>deploy/grafana/dashboards</c>, read as Grafana reads them: each panel's PromQL.</summary>
internal static class GrafanaDashboards
{
    public static string Directory => Path.Combine(Promtool.RepositoryRoot, "deploy", "grafana", "dashboards");

    public static List<Dashboard> Load() => [.. System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal).Select(Parse)];

    /// <summary>Grafana's built-in interval variables as Grafana would resolve them for a short range with a 1 s scrape.</summary>
    public static string Substitute(string expression) => expression
        .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
        .Replace("$__interval", "15s", StringComparison.Ordinal)
        .Replace("$__range", "5m", StringComparison.Ordinal);

    private static Dashboard Parse(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var root = document.RootElement;
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Select(v => (Name: v.GetProperty("name").GetString()!, Type: v.GetProperty("type").GetString()!)).ToList();
        var queries = new List<PanelQuery>();
        foreach (var panel in Panels(root.GetProperty("panels")))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                queries.Add(new PanelQuery(panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        return new Dashboard(root.GetProperty("title").GetString()!, root.GetProperty("uid").GetString()!, variables, queries);
    }

    /// <summary>Every panel, including those inside collapsed rows.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement panels)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in Panels(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}

internal sealed record Dashboard(string Title, string Uid, IReadOnlyList<(string Name, string Type)> Variables, IReadOnlyList<PanelQuery> Queries);

internal sealed record PanelQuery(string Panel, string Expression);
