using System.Globalization;
using System.Text.RegularExpressions;

namespace EventPlatform.Gateway.Tests;

/// <summary>One scrape of a Prometheus text exposition, read back as samples (name, labels, value).</summary>
public sealed partial class PrometheusScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    private PrometheusScrape(string text)
    {
        Text = text;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not an exposition sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["name"].Value] = Regex.Unescape(label.Groups["value"].Value);
            }

            _samples.Add((match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }
    }

    public string Text { get; }

    public static async Task<PrometheusScrape> TakeAsync(HttpClient client)
    {
        var response = await client.GetAsync("metrics");
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return new PrometheusScrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of the sample with exactly these labels, or null when there is none.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels)
    {
        foreach (var sample in _samples)
        {
            if (sample.Name == name && sample.Labels.Count == labels.Length && labels.All(l => sample.Labels.TryGetValue(l.Name, out var v) && v == l.Value))
            {
                return sample.Value;
            }
        }

        return null;
    }

    /// <summary>The value, 0 when the series does not exist yet.</summary>
    public double ValueOrZero(string name, params (string Name, string Value)[] labels) => Value(name, labels) ?? 0;

    /// <summary>Every sample of a metric family (name or name_suffix), with its labels.</summary>
    public IEnumerable<Dictionary<string, string>> LabelsOf(string name) =>
        _samples.Where(s => s.Name == name).Select(s => s.Labels);

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""")]
    private static partial Regex LabelPair();
}
