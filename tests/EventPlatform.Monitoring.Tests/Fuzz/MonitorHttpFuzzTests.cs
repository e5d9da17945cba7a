using EventPlatform.Testing;
using Xunit.Abstractions;

namespace EventPlatform.Monitoring.Tests.Fuzz;

/// <summary>
/// Random requests against the monitor's listener (<c>/metrics</c>, liveness, readiness and
/// everything else): random paths (dot segments, escaped random bytes, NULs, overlong segments),
/// methods, query strings and bodies. Every answer is a 2xx or a 4xx, never a 5xx, except
/// readiness's 503, which is an answer about the cluster, not a failure of the monitor.
/// </summary>
[Collection(MonitorCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Fuzz")]
public sealed class MonitorHttpFuzzTests(EmbeddedKafkaFixture kafka, ITestOutputHelper output)
{
    private static readonly string[] KnownPaths = ["/", "/metrics", "/health/live", "/health/ready", "/health", "/health/", "/metrics/", "/health/ready/", "/api/v1/health"];

    [Fact]
    public async Task Random_paths_methods_queries_and_bodies_get_a_2xx_or_4xx_never_a_5xx()
    {
        await using var monitor = await MonitorHost.StartAsync(kafka.BootstrapServers);
        var statuses = await ListenerFuzz.RunAsync(monitor.Http.BaseAddress!, KnownPaths, seed: 9308);

        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        // The endpoints themselves were reached, not only 404s.
        Assert.True(statuses.GetValueOrDefault(200) > 0, "no request was answered 200");
        Assert.True(statuses.GetValueOrDefault(404) > 0, "no request was answered 404");
    }
}
