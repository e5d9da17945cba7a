using System.Net;
using System.Text;

namespace EventPlatform.Testing;

/// <summary>
/// Random requests against a service's HTTP listener: random and known paths (dot segments, escaped
/// random bytes, NULs, overlong segments), methods, query strings, bodies (random bytes, 100,000-deep
/// JSON) and content types. Each answer must be a 2xx or a 4xx, never a 5xx, except readiness's 503
/// (an answer about a dependency, not a failure of the service).
/// </summary>
public static class ListenerFuzz
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "X-RANDOM"];
    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "*/*; charset=bogus"];
    private static readonly string[] Accepts = ["application/json", "application/openmetrics-text; version=1.0.0", "text/html;q=0.1, */*;q=0"];

    /// <summary>
    /// Sends <paramref name="requests"/> random requests to <paramref name="address"/> (seeded by
    /// <paramref name="seed"/>, so a failure repeats) and returns how many got each status. Fails the
    /// test (an exception naming the request) on a 5xx other than readiness's 503.
    /// </summary>
    public static async Task<Dictionary<int, int>> RunAsync(Uri address, IReadOnlyList<string> knownPaths, int seed, int requests = 600)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var random = new Random(seed);
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < requests; i++)
        {
            var path = RandomPath(random, knownPaths);
            var method = Methods[random.Next(Methods.Length)];
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(address, path));
            if (method is not ("GET" or "HEAD" or "TRACE") && random.Next(4) > 0)
            {
                request.Content = new ByteArrayContent(RandomBody(random));
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentTypes[random.Next(ContentTypes.Length)]);
            }

            if (random.Next(4) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", Accepts[random.Next(Accepts.Length)]);
            }

            if (random.Next(6) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", random.Next(2) == 0 ? "gzip" : "br;q=2, identity;q=0, x-bogus");
            }

            using var response = await http.SendAsync(request).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var readiness = response.StatusCode == HttpStatusCode.ServiceUnavailable && request.RequestUri!.AbsolutePath.TrimEnd('/') == "/health/ready";
            if (status >= 500 && !readiness)
            {
                throw new InvalidOperationException($"{method} {path} answered {status}");
            }
        }

        return statuses;
    }

    private static string RandomPath(Random random, IReadOnlyList<string> knownPaths)
    {
        var path = random.Next(3) == 0 ? knownPaths[random.Next(knownPaths.Count)] : "/" + string.Join('/', Enumerable.Range(0, random.Next(1, 6)).Select(_ => Segment(random)));
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

    private static byte[] RandomBody(Random random) => random.Next(5) switch
    {
        0 => Encoding.UTF8.GetBytes(new string('[', 100_000)),
        1 => [],
        2 => RandomBytes(random, random.Next(64 * 1024)),
        3 => "{\"status\":\"ok\",\"nested\":[[[[[[[[[[1]]]]]]]]]]}"u8.ToArray(),
        _ => RandomBytes(random, random.Next(256)),
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
