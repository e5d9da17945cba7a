using System.Net;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using PuppeteerSharp;

namespace EventPlatform.Gateway.Tests.Browser;

/// <summary>
/// The gateway as a browser sees it: a real headless Chromium on a page the gateway serves, whose
/// own JavaScript opens the WebSocket routes with the query-string token (a browser's WebSocket
/// cannot send an Authorization header), and the /docs page rendered.
/// Run alone: <c>dotnet test tests/EventPlatform.Gateway.Tests -c Release --filter Category=Browser</c>.
/// </summary>
[Collection(StreamingCollection.Name)]
[Trait("Category", "Browser")]
public sealed class BrowserTests(StreamingFixture streaming)
{
    /// <summary>
    /// Page-side sockets by name: each keeps every text message it got, in arrival order, and how it
    /// closed. Opening resolves once the socket is open and rejects if it closes first.
    /// </summary>
    private const string SocketsScript = """
        () => {
          window.testSockets = {};
          window.openTestSocket = (name, url) => new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            const state = { ws, messages: [], closed: null };
            window.testSockets[name] = state;
            ws.onmessage = e => state.messages.push(e.data);
            ws.onopen = () => resolve(true);
            ws.onclose = e => {
              state.closed = { code: e.code, reason: e.reason };
              reject(new Error(`${name} closed before opening: ${e.code} ${e.reason}`));
            };
          });
        }
        """;

    private static JsonObject Event(string eventType, string id, string userId) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = eventType,
        ["user_id"] = userId,
        ["payload"] = new JsonObject { ["n"] = id },
    };

    private static Uri WebSocketUrl(GatewayServer gateway, string path) =>
        TestSocket.ToWebSocket(gateway, path + "?access_token=" + Uri.EscapeDataString(GatewayServer.Token("browser-user")));

    private async Task<IPage> OpenGatewayPageAsync(HeadlessChromium chromium)
    {
        // Any page of the gateway's own origin will do: the sockets are opened by its JavaScript.
        var page = await chromium.OpenAsync(new Uri(streaming.Gateway.BaseAddress, "openapi/v1.json"));
        await page.EvaluateFunctionAsync(SocketsScript);
        return page;
    }

    private static Task OpenSocketAsync(IPage page, string name, Uri url) =>
        page.EvaluateFunctionAsync("(name, url) => window.openTestSocket(name, url)", name, url.ToString());

    /// <summary>Waits until the page's socket has a message for which <paramref name="until"/> (a JS predicate on the parsed message) holds, or has closed; returns all its messages.</summary>
    private static async Task<List<JsonObject>> MessagesUntilAsync(IPage page, string name, string until, params object[] args)
    {
        await page.WaitForFunctionAsync(
            $"(name, ...args) => {{ const s = window.testSockets[name]; const until = {until}; return s.closed !== null || s.messages.some(m => until(JSON.parse(m), ...args)); }}",
            new WaitForFunctionOptions { Timeout = (int)HeadlessChromium.Timeout.TotalMilliseconds, PollingInterval = 50 },
            [name, .. args]);
        var state = await page.EvaluateFunctionAsync<JsonObject>("name => ({ messages: window.testSockets[name].messages, closed: window.testSockets[name].closed })", name);
        Assert.True(state["closed"] is null, $"the page's {name} socket closed: {state["closed"]?.ToJsonString()}");
        return [.. state["messages"]!.AsArray().Select(m => JsonNode.Parse((string)m!)!.AsObject())];
    }

    private async Task<(string Id, int Partition, long Offset)> PostAsync(string topic, JsonObject e)
    {
        var response = await streaming.Gateway.Client.PostAsync($"api/v1/events/{topic}", TestEvents.Json(e));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        return ((string)body["event_id"]!, (int)body["partition"]!, (long)body["offset"]!);
    }

    [BrowserFact]
    public async Task A_page_streams_events_published_over_HTTP_in_partition_order_and_nothing_else()
    {
        var (type, topic) = streaming.NewTopic("browser-stream");
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await OpenGatewayPageAsync(chromium);

        await OpenSocketAsync(page, "stream", WebSocketUrl(streaming.Gateway, $"api/v1/stream/{type}"));
        var subscribed = Assert.Single(await MessagesUntilAsync(page, "stream", "m => m.type === 'subscribed'"));
        Assert.Equal(topic, (string?)subscribed["topic"]);

        // One key, so one partition: the stream's order there is Kafka's offset order.
        var published = new List<(string Id, int Partition, long Offset)>();
        for (var i = 0; i < 20; i++)
        {
            published.Add(await PostAsync(topic, Event(type, $"evt_browser_{i}", userId: "browser-key")));
        }

        Assert.Single(published.Select(p => p.Partition).Distinct());
        // A last event after them: once the page has it, whatever else was coming before it has come too.
        var marker = await PostAsync(topic, Event(type, "evt_browser_marker", userId: "browser-key"));
        published.Add(marker);

        var messages = await MessagesUntilAsync(page, "stream", "(m, id) => m.event_id === id", marker.Id);
        Assert.Equal("subscribed", (string?)messages[0]["type"]);
        var events = messages.Skip(1).ToList();
        Assert.All(events, m => Assert.Equal("event", (string?)m["type"]));
        Assert.Equal(published, events.Select(m => ((string)m["event_id"]!, (int)m["partition"]!, (long)m["offset"]!)));
    }

    [BrowserFact]
    public async Task A_page_publishes_over_the_ingest_socket_gets_the_ack_and_sees_the_event_on_its_stream()
    {
        var (type, topic) = streaming.NewTopic("browser-ingest");
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await OpenGatewayPageAsync(chromium);
        await OpenSocketAsync(page, "stream", WebSocketUrl(streaming.Gateway, $"api/v1/stream/{type}"));
        await MessagesUntilAsync(page, "stream", "m => m.type === 'subscribed'");
        await OpenSocketAsync(page, "ingest", WebSocketUrl(streaming.Gateway, $"api/v1/ingest/{type}"));

        await page.EvaluateFunctionAsync("(text) => window.testSockets.ingest.ws.send(text)", Event(type, "evt_from_browser", userId: "browser-key").ToJsonString());

        var ack = Assert.Single(await MessagesUntilAsync(page, "ingest", "m => m.event_id === 'evt_from_browser'"));
        Assert.Equal("ack", (string?)ack["type"]);
        Assert.Equal(topic, (string?)ack["topic"]);
        var record = streaming.RecordAt(topic, (int)ack["partition"]!, (long)ack["offset"]!);
        Assert.Equal("evt_from_browser", (string?)Responses.ParseRecord(record)["event_id"]);

        var streamed = (await MessagesUntilAsync(page, "stream", "m => m.event_id === 'evt_from_browser'")).Skip(1).ToList();
        var e = Assert.Single(streamed);
        Assert.Equal(((int)ack["partition"]!, (long)ack["offset"]!), ((int)e["partition"]!, (long)e["offset"]!));
    }

    [BrowserFact]
    public async Task The_docs_page_renders_every_operation_from_assets_the_gateway_serves()
    {
        using var anonymous = new HttpClient { BaseAddress = streaming.Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var document = JsonNode.Parse(await anonymous.GetStringAsync("openapi/v1.json"))!;
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(operation => new
            {
                Route = operation.Key.ToUpperInvariant() + " " + path.Key,
                Summary = (string)operation.Value!["summary"]!,
            }))
            .ToList();
        Assert.Contains(operations, o => o.Route == "POST /api/v1/events/{topic}");

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var requested = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var page = await chromium.OpenAsync(new Uri(streaming.Gateway.BaseAddress, "docs"), beforeLoad: p => p.Request += (_, e) => requested.Enqueue(e.Request.Url));

        // Rendered, not merely served: the visible text (innerText) lists each operation's method and
        // path, and its name in the navigation. The page builds all of it in the browser from the document.
        var texts = operations.SelectMany(o => new[] { o.Route, o.Summary }).ToArray();
        try
        {
            await page.WaitForFunctionAsync(
                "(texts) => { const seen = document.body.innerText.replace(/\\s+/g, ' '); return texts.every(t => seen.includes(t)); }",
                new WaitForFunctionOptions { Timeout = (int)HeadlessChromium.Timeout.TotalMilliseconds, PollingInterval = 100 },
                [texts]);
        }
        catch (WaitTaskTimeoutException)
        {
            var seen = System.Text.RegularExpressions.Regex.Replace(await page.EvaluateExpressionAsync<string>("document.body.innerText"), @"\s+", " ");
            Assert.Fail($"/docs did not show {string.Join(", ", texts.Where(t => !seen.Contains(t, StringComparison.Ordinal)))}; it showed: {seen[..Math.Min(seen.Length, 2000)]}");
        }

        // Everything it loaded came from the gateway itself (no CDN, fonts or telemetry).
        var origin = streaming.Gateway.BaseAddress.GetLeftPart(UriPartial.Authority);
        Assert.NotEmpty(requested);
        Assert.All(requested, url => Assert.True(
            url.StartsWith(origin + "/", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal) || url.StartsWith("blob:", StringComparison.Ordinal),
            $"/docs requested {url}"));
    }
}
