using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// A broker, a registry and a gateway as child processes, the registry and the gateway with JSON
/// logs and the gateway's per-event lines (Debug) on.
/// </summary>
public sealed class JsonLoggingPlatform : IAsyncLifetime
{
    public CliProcess Broker { get; private set; } = null!;

    public CliProcess Registry { get; private set; } = null!;

    public CliProcess Gateway { get; private set; } = null!;

    public Uri GatewayUrl { get; private set; } = null!;

    public string BootstrapServers { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (Broker, var bootstrap) = await PlatformProcesses.StartBrokerAsync();
        BootstrapServers = bootstrap;
        (Registry, var registryUrl) = await PlatformProcesses.StartRegistryAsync("registry", bootstrap, "--Logging:Format=json");
        (Gateway, GatewayUrl) = await PlatformProcesses.StartGatewayAsync("gateway", bootstrap, registryUrl,
            "--Logging:Format=json", "--Logging:LogLevel:EventPlatform.Gateway.Publishing=Debug");
    }

    public async Task DisposeAsync()
    {
        foreach (var child in new[] { Gateway, Registry, Broker })
        {
            if (child is not null)
            {
                await child.DisposeAsync();
            }
        }
    }
}

/// <summary>The real gateway's JSON logs read back: every stdout line is one JSON object, and a request's lines carry its request id, trace id and event id.</summary>
public sealed class JsonLogTests(JsonLoggingPlatform platform) : IClassFixture<JsonLoggingPlatform>
{
    private static readonly TimeSpan LogTimeout = TimeSpan.FromSeconds(20);

    private HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = platform.GatewayUrl, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayServer.Token("json-logs"));
        return client;
    }

    /// <summary>Every stdout line of <paramref name="child"/> parsed; fails on the first that is not one JSON object.</summary>
    private static List<JsonObject> ParseAll(CliProcess child)
    {
        var parsed = new List<JsonObject>();
        foreach (var line in child.StandardOutputLines)
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"{child.Name} wrote a stdout line that is not JSON ({e.Message}): {line}");
            }

            Assert.True(node is JsonObject, $"{child.Name} wrote a stdout line that is not a JSON object: {line}");
            parsed.Add((JsonObject)node!);
        }

        return parsed;
    }

    private static string? Text(JsonObject line, string field) => line[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Waits until the gateway has written a JSON line that <paramref name="match"/> accepts (the console logger writes on its own thread).</summary>
    private async Task<JsonObject> WaitForLogAsync(Func<JsonObject, bool> match)
    {
        var line = await platform.Gateway.WaitForLineAsync(
            l => l.StartsWith('{') && JsonNode.Parse(l) is JsonObject o && match(o), LogTimeout);
        return JsonNode.Parse(line)!.AsObject();
    }

    private static HttpRequestMessage Publish(JsonObject body, string requestId, string traceparent, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/iot.sensors") { Content = TestEvents.Json(body) };
        request.Headers.Add("X-Request-ID", requestId);
        request.Headers.Add("traceparent", traceparent);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    [Fact]
    public async Task Published_and_refused_events_are_logged_with_their_request_id_trace_id_and_event_id()
    {
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var traceparent = $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01";
        var goodRequest = "req-ok-" + Guid.NewGuid().ToString("N");
        var badRequest = "req-bad-" + Guid.NewGuid().ToString("N");
        var goodEvent = "evt_json_ok_" + Guid.NewGuid().ToString("N");
        var badEvent = "evt_json_bad_" + Guid.NewGuid().ToString("N");
        var reusedRequest = "req-reused-" + Guid.NewGuid().ToString("N");
        var reusedEvent = "evt_json_reused_" + Guid.NewGuid().ToString("N");
        var key = "key-" + Guid.NewGuid().ToString("N");
        var refusedBody = TestEvents.Iot(badEvent);
        refusedBody["payload"] = new JsonObject { ["temperature"] = "hot" };
        using var client = Client();

        using var accepted = await client.SendAsync(Publish(TestEvents.Iot(goodEvent), goodRequest, traceparent, key));
        using var refused = await client.SendAsync(Publish(refusedBody, badRequest, traceparent));
        using var reused = await client.SendAsync(Publish(TestEvents.Iot(reusedEvent), reusedRequest, traceparent, key));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal(goodRequest, accepted.Headers.GetValues("X-Request-ID").Single());
        Assert.Equal(badRequest, refused.Headers.GetValues("X-Request-ID").Single());

        var acceptedLine = await WaitForLogAsync(l => Text(l, "request_id") == goodRequest && Text(l, "event_id") == goodEvent);
        var refusedLine = await WaitForLogAsync(l => Text(l, "request_id") == badRequest && Text(l, "event_id") == badEvent);
        var reusedLine = await WaitForLogAsync(l => Text(l, "request_id") == reusedRequest && Text(l, "event_id") == reusedEvent);
        Assert.All([acceptedLine, refusedLine, reusedLine], l => Assert.Equal(traceId, Text(l, "trace_id")));
        Assert.Equal(2332, (int)acceptedLine["log_event_id"]!);
        Assert.Equal(2333, (int)refusedLine["log_event_id"]!);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", Text(reusedLine, "error_code"));
        Assert.Equal("Debug", Text(refusedLine, "level"));
        Assert.Equal("events.iot.sensors", Text(acceptedLine, "topic"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", Text(acceptedLine, "timestamp"));

        // Every line either service wrote to stdout, from start-up on, is one JSON object.
        var gatewayLines = ParseAll(platform.Gateway);
        Assert.Contains(gatewayLines, l => Text(l, "category") == "Microsoft.Hosting.Lifetime");
        Assert.NotEmpty(ParseAll(platform.Registry));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task Hostile_request_ids_and_traceparents_never_give_a_5xx_nor_break_a_log_line()
    {
        var random = new Random(1203);
        var token = GatewayServer.Token("json-logs-fuzz");
        var taken = new List<(string RequestId, string EventId)>();
        for (var i = 0; i < 60; i++)
        {
            var requestId = HostileHeaderValue(random);
            var traceparent = random.Next(4) == 0 ? $"00-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01" : HostileHeaderValue(random);
            var eventId = $"evt_fuzz_{i}_{Guid.NewGuid():N}";
            var status = await RawPublishAsync(token, requestId, traceparent, eventId);

            Assert.True(status is > 0 and < 500, $"request {i}: status {status} for X-Request-ID {Convert.ToHexString(Encoding.Latin1.GetBytes(requestId))}");
            if (status == 200 && requestId.Length is > 0 and <= 128 && requestId.All(c => c is >= '!' and <= '~'))
            {
                taken.Add((requestId, eventId));
            }
        }

        // The last accepted request's line marks that everything before it has been written.
        var marker = $"req-marker-{Guid.NewGuid():N}";
        var markerEvent = $"evt_fuzz_marker_{Guid.NewGuid():N}";
        Assert.Equal(200, await RawPublishAsync(token, marker, "garbage", markerEvent));
        await WaitForLogAsync(l => Text(l, "request_id") == marker);

        var lines = ParseAll(platform.Gateway);
        Assert.NotEmpty(taken);
        foreach (var (requestId, eventId) in taken)
        {
            // A sane client id is kept exactly, quotes and braces included.
            Assert.Contains(lines, l => Text(l, "request_id") == requestId && Text(l, "event_id") == eventId);
        }
    }

    [Fact]
    public async Task Up_with_json_logs_writes_only_json_lines_to_stdout_from_every_service()
    {
        await using var up = (await PlatformProcesses.StartUpAsync(platform.BootstrapServers, "--Logging:Format=json")).Process;
        await up.WaitForLineAsync(l => l.Contains("Event platform is up.", StringComparison.Ordinal), PlatformProcesses.StartTimeout);

        // Each of its five hosts (registry, gateway, processor, sink, monitor) says where it listens, as JSON.
        await up.WaitForLineAsync(_ => ListeningAddresses(up).Count >= 5, LogTimeout);

        var lines = ParseAll(up);
        Assert.Equal(5, ListeningAddresses(up).Count);
        Assert.Contains(lines, l => Text(l, "category")!.StartsWith("EventPlatform.SchemaRegistry", StringComparison.Ordinal));

        // The summary for people went to stderr.
        Assert.DoesNotContain(up.StandardOutputLines, l => l.Contains("Event platform is up.", StringComparison.Ordinal));
    }

    /// <summary>The addresses the child's hosts said they listen on (<c>Microsoft.Hosting.Lifetime</c>'s "Now listening on"), from its JSON lines.</summary>
    private static HashSet<string> ListeningAddresses(CliProcess child) =>
        [.. child.StandardOutputLines
            .Where(l => l.StartsWith('{') && l.Contains("\"Microsoft.Hosting.Lifetime\"", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l) is JsonObject o ? Text(o, "address") : null)
            .OfType<string>()];

    /// <summary>Header values a client might send: control characters, quotes, bytes above ASCII, JSON and log-line look-alikes, very long ones.</summary>
    private static string HostileHeaderValue(Random random)
    {
        string[] pieces = ["\"", "\\", "{", "}", "\",\"level\":\"Critical", "\u0000", "\u001b[31m", "\t", "\u007f", "\u00e9", "\u00ff", " ", "%0a", "\\n", "'", "<", "x"];
        var mode = random.Next(8);
        var length = mode switch
        {
            0 => random.Next(129, 6000),
            1 => 0,
            _ => random.Next(1, 60),
        };
        var builder = new StringBuilder();
        if (mode is 2 or 3)
        {
            // Printable ASCII only, so the gateway takes it as the request id: quotes, braces, a line's look-alike.
            while (builder.Length < length)
            {
                builder.Append(random.Next(4) == 0 ? "\",\"level\":\"Critical\"}{" : ((char)random.Next('!', '~' + 1)).ToString());
            }

            return builder.ToString()[..Math.Min(builder.Length, 128)];
        }

        while (builder.Length < length)
        {
            if (random.Next(3) == 0)
            {
                builder.Append(pieces[random.Next(pieces.Length)]);
            }
            else
            {
                // Any byte but CR and LF, which would end the header line itself.
                var b = random.Next(0, 256);
                builder.Append(b is '\r' or '\n' ? 'x' : (char)b);
            }
        }

        return builder.ToString();
    }

    /// <summary>Sends a publish over a raw socket (HttpClient refuses such header values) and returns the status code.</summary>
    private async Task<int> RawPublishAsync(string token, string requestId, string traceparent, string eventId)
    {
        var body = Encoding.UTF8.GetBytes(TestEvents.Iot(eventId).ToJsonString());
        var head = new StringBuilder()
            .Append("POST /api/v1/events/iot.sensors HTTP/1.1\r\n")
            .Append("Host: 127.0.0.1\r\n")
            .Append("Authorization: Bearer ").Append(token).Append("\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append("X-Request-ID: ").Append(requestId).Append("\r\n")
            .Append("traceparent: ").Append(traceparent).Append("\r\n")
            .Append("Connection: close\r\n\r\n");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(platform.GatewayUrl.Host, platform.GatewayUrl.Port);
        await using var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync((byte[])[.. Encoding.Latin1.GetBytes(head.ToString()), .. body]);
        }
        catch (IOException)
        {
            // The server answered (400, 431) and closed before it had read everything: its answer is still there to read.
        }

        using var reader = new StreamReader(stream, Encoding.Latin1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var status = await reader.ReadLineAsync(timeout.Token);
        // "HTTP/1.1 200 OK"
        return status is { Length: >= 12 } && int.TryParse(status.AsSpan(9, 3), out var code) ? code : -1;
    }
}
