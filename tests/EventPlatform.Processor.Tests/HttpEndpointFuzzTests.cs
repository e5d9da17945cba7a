using System.Net;
using System.Text;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Processor.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventPlatform.Processor.Tests;

/// <summary>
/// Random requests against the processor's listener (health, readiness, metrics and everything else):
/// a 2xx or a 4xx, never a 5xx, except readiness's 503, which is its answer while the registry is away
/// (kept away here on purpose, so the failing branch of readiness is the one exercised).
/// </summary>
public sealed class HttpEndpointFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Requests = 600;
    private static readonly string[] KnownPaths = ["/", "/health/live", "/health/ready", "/metrics", "/health", "/health/", "/metrics/", "/docs", "/api/v1/events"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "X-RANDOM"];
    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "*/*; charset=bogus"];

    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null, BrokerCount = 1 });
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        _app = ProcessorApp.Create([], new Dictionary<string, string?>
        {
            ["Processor:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            ["SchemaRegistry:Url"] = "http://127.0.0.1:9",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Processor:DataDirectory"] = Path.Combine(Path.GetTempPath(), "processor-fuzz-" + Guid.NewGuid().ToString("N")),
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _cluster.Dispose();
    }

    [Fact]
    public async Task Random_paths_methods_and_bodies_get_a_2xx_or_4xx_never_a_5xx()
    {
        var address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var random = new Random(4242);
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < Requests; i++)
        {
            var path = RandomPath(random);
            var method = Methods[random.Next(Methods.Length)];
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(address, path));
            if (method is not ("GET" or "HEAD" or "TRACE") && random.Next(4) > 0)
            {
                request.Content = new ByteArrayContent(RandomBody(random));
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentTypes[random.Next(ContentTypes.Length)]);
            }

            if (random.Next(5) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", random.Next(2) == 0 ? "application/json" : "text/html;q=0.1, */*;q=0");
            }

            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var readiness = response.StatusCode == HttpStatusCode.ServiceUnavailable && request.RequestUri!.AbsolutePath.TrimEnd('/') == "/health/ready";
            Assert.True(status < 500 || readiness, $"{method} {path} answered {status}");
        }

        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        // The known endpoints were reached, not only 404s.
        Assert.True(statuses.GetValueOrDefault(200) > 0, "no request was answered 200");
        Assert.True(statuses.GetValueOrDefault(404) > 0, "no request was answered 404");
    }

    private static string RandomPath(Random random)
    {
        var path = random.Next(3) == 0 ? KnownPaths[random.Next(KnownPaths.Length)] : "/" + string.Join('/', Enumerable.Range(0, random.Next(1, 6)).Select(_ => Segment(random)));
        return random.Next(4) == 0 ? path + "?" + Segment(random) + "=" + Segment(random) : path;
    }

    private static string Segment(Random random)
    {
        const string Plain = "abcdefghijklmnopqrstuvwxyz0123456789-._~";
        return random.Next(8) switch
        {
            0 => "..",
            1 => Uri.EscapeDataString(Encoding.UTF8.GetString(RandomBytes(random, random.Next(1, 12)))),
            2 => "%00%ff%c0%af",
            3 => new string('a', random.Next(1, 3000)),
            4 => "health",
            5 => "metrics",
            _ => new string([.. Enumerable.Range(0, random.Next(1, 16)).Select(_ => Plain[random.Next(Plain.Length)])]),
        };
    }

    private static byte[] RandomBody(Random random) => random.Next(4) switch
    {
        0 => "{\"status\":\"ok\",\"nested\":[[[[[[[[[[1]]]]]]]]]]}"u8.ToArray(),
        1 => [],
        2 => RandomBytes(random, random.Next(64 * 1024)),
        _ => RandomBytes(random, random.Next(256)),
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
