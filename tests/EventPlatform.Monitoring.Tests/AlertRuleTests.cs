namespace EventPlatform.Monitoring.Tests;

/// <summary>
/// deploy/prometheus checked by Prometheus' own tool: the configuration and the rules load, and the
/// rules' unit tests (deploy/prometheus/tests) pass: each alert fires on series that should fire it
/// and stays silent on those that should not.
/// </summary>
public sealed class AlertRuleTests
{
    private const string Config = "deploy/prometheus/prometheus.yml";
    private const string RulesDirectory = "deploy/prometheus/rules";
    private const string TestsDirectory = "deploy/prometheus/tests";

    [PromtoolFact]
    public async Task The_Prometheus_configuration_is_valid()
    {
        // Also loads the rule files it names; no scrape target is contacted.
        await AssertPromtoolAsync(["check", "config", Config]);
    }

    [PromtoolFact]
    public async Task The_alerting_and_recording_rules_are_valid()
    {
        await AssertPromtoolAsync(["check", "rules", .. Files(RulesDirectory)]);
    }

    [PromtoolFact]
    public async Task The_rules_unit_tests_pass()
    {
        await AssertPromtoolAsync(["test", "rules", .. Files(TestsDirectory)]);
    }

    private static string[] Files(string directory)
    {
        var files = Directory.GetFiles(Path.Combine(Promtool.RepositoryRoot, directory), "*.yml")
            .Select(f => Path.GetRelativePath(Promtool.RepositoryRoot, f))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.NotEmpty(files);
        return files;
    }

    private static async Task AssertPromtoolAsync(string[] arguments)
    {
        var promtool = Promtool.Path ?? throw new InvalidOperationException(Promtool.NotInstalledReason);
        var (exitCode, output) = await Promtool.RunAsync(promtool, arguments);
        Assert.True(exitCode == 0, $"promtool {string.Join(' ', arguments)} exited with {exitCode}:\n{output}");
    }
}
