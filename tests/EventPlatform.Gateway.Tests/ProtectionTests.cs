using System.Net;
using EventPlatform.Gateway.Protection;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>Rate limits, CORS and topic scopes: a gateway of its own with rate limiting on and CORS origins set.</summary>
public sealed class ProtectionTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();
    private readonly string _auditDirectory = Path.Combine(Path.GetTempPath(), "audit-" + Guid.NewGuid().ToString("N"));
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:RateLimit:Enabled"] = "true",
            ["Gateway:RateLimit:PermitsPerWindow"] = "5",
            ["Gateway:RateLimit:BatchPermitsPerWindow"] = "2",
            ["Cors:Origins"] = """["https://app.example.com", "https://other.example.com/"]""",
            ["Audit:Directory"] = _auditDirectory,
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _kafka.DisposeAsync();
        if (Directory.Exists(_auditDirectory))
        {
            Directory.Delete(_auditDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Every_request_is_audited_once_as_a_json_line_without_its_query_string()
    {
        using var client = _gateway.NewClient("auditor");
        var ids = Enumerable.Range(0, 3).Select(i => $"audit-{i}-{Guid.NewGuid():N}").ToArray();
        foreach (var id in ids)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/events/iot.sensors?secret=do-not-log") { Content = TestEvents.Json(TestEvents.Iot($"evt_a_{Guid.NewGuid():N}")) };
            request.Headers.Add("X-Request-ID", id);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        // The writer is in the background: wait until every entry is there (or give up after 30 s).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] lines = [];
        while (DateTime.UtcNow < deadline)
        {
            lines = Directory.Exists(_auditDirectory)
                ? [.. Directory.GetFiles(_auditDirectory, "gateway-*.jsonl").SelectMany(f => ReadShared(f).Split('\n', StringSplitOptions.RemoveEmptyEntries))]
                : [];
            if (ids.All(id => lines.Any(l => l.Contains(id, StringComparison.Ordinal))))
            {
                break;
            }

            await Task.Delay(50);
        }

        foreach (var id in ids)
        {
            var entry = Assert.Single(lines, l => l.Contains(id, StringComparison.Ordinal));
            var json = System.Text.Json.Nodes.JsonNode.Parse(entry)!;
            Assert.Equal("auditor", (string?)json["subject"]);
            Assert.Equal("POST", (string?)json["method"]);
            Assert.Equal("/api/v1/events/{topic}", (string?)json["route"]);
            Assert.Equal("/api/v1/events/iot.sensors", (string?)json["path"]);
            Assert.Equal(200, (int)json["status"]!);
            Assert.Equal(id, (string?)json["request_id"]);
        }

        Assert.DoesNotContain(lines, l => l.Contains("do-not-log", StringComparison.Ordinal));
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task Over_the_limit_is_429_with_Retry_After_and_other_clients_and_health_are_unaffected()
    {
        using var client = _gateway.NewClient("busy-client");
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 7; i++)
        {
            var response = await client.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_rl_{i}_{Guid.NewGuid():N}")));
            statuses.Add(response.StatusCode);
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : limited;
        }

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Responses.AssertIsErrorResponse(await limited.JsonAsync(), "RATE_LIMITED");

        // Batches have their own allowance, and other clients theirs.
        var batch = await client.PostAsync("api/v1/events/iot.sensors/batch", TestEvents.Json(new System.Text.Json.Nodes.JsonArray(TestEvents.Iot($"evt_b_{Guid.NewGuid():N}"))));
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        using var other = _gateway.NewClient("quiet-client");
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_o_{Guid.NewGuid():N}")))).StatusCode);

        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseAddress };
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("api/v1/health")).StatusCode);
        }
    }

    [Fact]
    public async Task A_token_without_the_topic_in_its_scope_is_403()
    {
        using var iotOnly = _gateway.NewClient("iot-writer", scope: "events:write:iot.sensors events:read:*");

        var allowed = await iotOnly.PostAsync("api/v1/events/iot.sensors", TestEvents.Json(TestEvents.Iot($"evt_s_{Guid.NewGuid():N}")));
        var denied = await iotOnly.PostAsync("api/v1/events/transactions", TestEvents.Json(TestEvents.Of("transaction", $"evt_s_{Guid.NewGuid():N}", userId: "u")));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var body = await denied.JsonAsync();
        Responses.AssertIsErrorResponse(body, "FORBIDDEN");
        Assert.Equal("events:write:events.transactions", (string?)body["details"]!["required_scope"]);
    }

    [Theory]
    [InlineData("https://app.example.com", true)]
    [InlineData("https://other.example.com", true)]
    [InlineData("https://evil.example.com", false)]
    public async Task Cors_preflight_is_answered_for_configured_origins_only(string origin, bool allowed)
    {
        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseAddress };
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "api/v1/events/iot.sensors");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");

        var response = await anonymous.SendAsync(preflight);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
        if (allowed)
        {
            Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""["https://a.example.com", "https://b.example.com"]""", new[] { "https://a.example.com", "https://b.example.com" })]
    [InlineData("https://a.example.com, https://b.example.com/", new[] { "https://a.example.com", "https://b.example.com" })]
    [InlineData("*", new[] { "*" })]
    [InlineData("", new string[0])]
    public void Cors_origins_are_read_in_the_seeds_json_form_and_as_a_comma_list(string value, string[] expected) =>
        Assert.Equal(expected, CorsSetup.ParseOrigins(value));
}
