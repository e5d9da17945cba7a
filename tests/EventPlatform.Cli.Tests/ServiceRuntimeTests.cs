using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// A service re-executes itself in place with the runtime's call-counting delay off (ServiceRuntime,
/// README, processor): the process started is the process that serves, with the setting in its
/// environment; a value the user set is kept.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ServiceRuntimeTests
{
    private const string Variable = "DOTNET_TC_CallCountingDelayMs";

    [Fact]
    public async Task A_service_serves_from_the_process_started_with_the_tiering_delay_off()
    {
        var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
        await using var _ = broker;

        Assert.Equal("0", Environment(broker.Id).GetValueOrDefault(Variable));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        Assert.Contains(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "events.iot.sensors");
    }

    [Fact]
    public async Task A_value_in_the_environment_is_kept()
    {
        var broker = CliProcess.Start("broker-tuned", ["broker", "--port", "0"], new Dictionary<string, string?> { [Variable] = "100" });
        await using var _ = broker;
        await broker.WaitForLineAsync(l => l.StartsWith("KAFKA_BOOTSTRAP_SERVERS=", StringComparison.Ordinal), PlatformProcesses.StartTimeout);

        Assert.Equal("100", Environment(broker.Id).GetValueOrDefault(Variable));
    }

    private static Dictionary<string, string> Environment(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ")
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
}
