using System.Net;
using System.Text;
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
    private const int Requests = 600;
    private static readonly string[] KnownPaths = ["/", "/metrics", "/health/live", "/health/ready", "/health", "/health/", "/metrics/", "/health/ready/", "/api/v1/health"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT-ISH", "X-RANDOM"];
    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "*/*; charset=bogus"];

    [Fact]
    public async Task Random_paths_methods_queries_and_bodies_get_a_2xx_or_4xx_never_a_5xx()
    {
        await using var monitor = await MonitorHost.StartAsync(kafka.BootstrapServers);
        var address = monitor.Http.BaseAddress!;
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var random = new Random(9308);
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

            if (random.Next(4) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", random.Next(2) == 0 ? "application/openmetrics-text; version=1.0.0" : "text/html;q=0.1, */*;q=0");
            }

            if (random.Next(6) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", random.Next(2) == 0 ? "gzip" : "br;q=2, identity;q=0, x-bogus");
            }

            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var readiness = response.StatusCode == HttpStatusCode.ServiceUnavailable && request.RequestUri!.AbsolutePath.TrimEnd('/') == "/health/ready";
            Assert.True(status < 500 || readiness, $"{method} {path} answered {status}");
        }

        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        // The endpoints themselves were reached, not only 404s.
        Assert.True(statuses.GetValueOrDefault(200) > 0, "no request was answered 200");
        Assert.True(statuses.GetValueOrDefault(404) > 0, "no request was answered 404");
    }

    private static string RandomPath(Random random)
    {
        var path = random.Next(3) == 0 ? KnownPaths[random.Next(KnownPaths.Length)] : "/" + string.Join('/', Enumerable.Range(0, random.Next(1, 6)).Select(_ => Segment(random)));
        return random.Next(3) switch
        {
            0 => path + "?" + Segment(random) + "=" + Segment(random),
            1 => path + "?" + string.Join('&', Enumerable.Range(0, random.Next(1, 40)).Select(_ => Segment(random) + "=" + Segment(random))),
            _ => path,
        };
    }

    private static string Segment(Random random)
    {
        const string Plain = "abcdefghijklmnopqrstuvwxyz0123456789-._~";
        return random.Next(9) switch
        {
            0 => "..",
            1 => Uri.EscapeDataString(Encoding.UTF8.GetString(RandomBytes(random, random.Next(1, 12)))),
            2 => "%00%ff%c0%af%ed%a0%80",
            3 => new string('a', random.Next(1, 3000)),
            4 => "health",
            5 => "metrics",
            6 => "%2e%2e%2f" + Uri.EscapeDataString(new string('[', random.Next(1, 100))),
            _ => new string([.. Enumerable.Range(0, random.Next(1, 16)).Select(_ => Plain[random.Next(Plain.Length)])]),
        };
    }

    private static byte[] RandomBody(Random random) => random.Next(4) switch
    {
        0 => Encoding.UTF8.GetBytes(new string('[', 100_000)),
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
