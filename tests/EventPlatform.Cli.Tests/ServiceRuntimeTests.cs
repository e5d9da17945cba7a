using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// A service re-executes itself in place with the runtime's call-counting delay off, and the gateway
/// (alone or in <c>up</c>) with socket operations completed inline (ServiceRuntime, README): the process
/// started is the process that serves, with the settings in its environment; a value the user set is kept.
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
    public async Task A_gateway_also_completes_socket_operations_inline_and_keeps_a_value_the_user_set()
    {
        const string Inline = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        var (broker, bootstrap) = await PlatformProcesses.StartBrokerAsync();
        await using var _ = broker;
        var (registry, registryUrl) = await PlatformProcesses.StartRegistryAsync("registry-inline", bootstrap);
        await using var __ = registry;
        var (gateway, url) = await PlatformProcesses.StartGatewayAsync("gateway-inline", bootstrap, registryUrl);
        await using var ___ = gateway;
        var userEnvironment = PlatformProcesses.GatewayEnvironment(bootstrap, registryUrl.ToString().TrimEnd('/'));
        userEnvironment[Inline] = "0";
        var user = CliProcess.Start("gateway-user-inline", ["gateway", "--Gateway:Urls=http://127.0.0.1:0"], userEnvironment);
        await using var ____ = user;
        await user.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), PlatformProcesses.StartTimeout);

        using var http = new HttpClient();
        using var health = await http.GetAsync(new Uri(url, "api/v1/health"));
        Assert.True(health.IsSuccessStatusCode);
        Assert.Equal(("1", "0"), (Environment(gateway.Id).GetValueOrDefault(Inline), Environment(gateway.Id).GetValueOrDefault(Variable)));
        Assert.Equal(("0", "0"), (Environment(user.Id).GetValueOrDefault(Inline), Environment(user.Id).GetValueOrDefault(Variable)));
        // The other services keep the thread pool's completions.
        Assert.False(Environment(registry.Id).ContainsKey(Inline));
        Assert.False(Environment(broker.Id).ContainsKey(Inline));
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
