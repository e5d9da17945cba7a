using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>
/// Hostile input on the WebSocket routes: every text message on <c>WS /api/v1/ingest/{topic}</c>
/// gets its answer frame (or the socket closes with a documented code), only acknowledged events
/// are written; any query string on either route is a 101 or a 4xx ErrorResponse before the upgrade.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(FuzzCollection.Name)]
public sealed class SocketFuzzTests(FuzzFixture fuzz) : IAsyncLifetime
{
    private const string Ingest = "api/v1/ingest/iot.sensors";

    // Close codes the ingest route documents for a client that breaks the protocol: a text message
    // that is not UTF-8 (1007, the WebSocket layer's own check), a binary message (1003), a message over the limit (1009).
    private static readonly WebSocketCloseStatus[] DocumentedCloses =
        [WebSocketCloseStatus.InvalidPayloadData, WebSocketCloseStatus.InvalidMessageType, WebSocketCloseStatus.MessageTooBig];

    private TestSocket? _socket;

    private async Task<TestSocket> SocketAsync()
    {
        if (_socket is { Socket.State: WebSocketState.Open })
        {
            return _socket;
        }

        if (_socket is not null)
        {
            await _socket.DisposeAsync();
        }

        return _socket = await TestSocket.ConnectAsync(fuzz.Gateway, Ingest);
    }

    /// <summary>Sends one message; returns its answer frame, or null when the socket closed (with a documented code).</summary>
    private async Task<JsonObject?> ExchangeAsync(byte[] message, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        var socket = await SocketAsync();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await socket.Socket.SendAsync(message, type, true, CancellationToken.None);
        JsonObject? answer;
        try
        {
            answer = await socket.ReceiveAsync(FuzzFixture.AnswerBound);
        }
        catch (WebSocketException) when (type == WebSocketMessageType.Text && !IsUtf8(message))
        {
            // RFC 6455 8.1: a text message that is not UTF-8 fails the connection. The server sends
            // 1007 and closes the TCP connection without waiting for our close frame, so our
            // client may see the connection end before (or instead of) the close frame.
            return null;
        }

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < FuzzFixture.AnswerBound);
        if (answer is null)
        {
            Assert.Contains(socket.CloseStatus!.Value, DocumentedCloses);
            return null;
        }

        var frameType = (string?)answer["type"];
        Assert.True(frameType is "ack" or "error", answer.ToJsonString());
        if (frameType == "error")
        {
            Assert.False(string.IsNullOrEmpty((string?)answer["error_code"]));
            Assert.False(string.IsNullOrEmpty((string?)answer["message"]));
            Assert.DoesNotContain("INTERNAL_ERROR", (string?)answer["error_code"], StringComparison.Ordinal);
            Assert.True(answer.ContainsKey("details"));
        }

        return answer;
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Every_mutated_message_gets_an_answer_frame_or_a_documented_close(Mutation mutation)
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        var message = mutation.Apply(fuzz.ValidEvent());
        var answer = await ExchangeAsync(message);

        if (answer is null)
        {
            // Only a message the WebSocket layer itself refuses closes the socket.
            Assert.True(!IsUtf8(message) || message.Length > 1024 * 1024, $"closed with {_socket?.CloseStatus} on a valid UTF-8 message");
        }

        // A mutation may give two cases the same event (a fixed event_id and nothing else changed):
        // the second is a replay, acknowledged with "replayed": true and written nowhere.
        var written = (string?)answer?["type"] == "ack" && answer?["replayed"] is null ? 1 : 0;
        Assert.Equal(before + written, fuzz.RecordsIn(FuzzFixture.Topic));
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Hostile_text_and_numbers_in_every_field_are_error_frames_and_nothing_is_written()
    {
        var before = fuzz.RecordsIn(FuzzFixture.Topic);
        for (var place = 0; place < FuzzInputs.TextPlaces.Length; place++)
        {
            // Escapes only: raw invalid UTF-8 is the WebSocket layer's to refuse (1007), tested above.
            foreach (var text in FuzzInputs.HostileTexts.Take(6))
            {
                var answer = await ExchangeAsync(FuzzInputs.WithText(fuzz.ValidEvent(), place, text));
                Assert.Equal("INVALID_EVENT", (string?)answer!["error_code"]);
            }
        }

        for (var place = 0; place < FuzzInputs.NumberPlaces.Length; place++)
        {
            foreach (var number in FuzzInputs.NonFiniteNumbers)
            {
                var answer = await ExchangeAsync(FuzzInputs.WithRaw(fuzz.ValidEvent(), place, number));
                Assert.Equal("INVALID_EVENT", (string?)answer!["error_code"]);
            }
        }

        Assert.Equal(before, fuzz.RecordsIn(FuzzFixture.Topic));
    }

    [Fact]
    public async Task Arrays_of_hostile_events_are_answered_slot_by_slot()
    {
        var events = new JsonArray();
        var body = new StringBuilder("[");
        for (var place = 0; place < FuzzInputs.TextPlaces.Length; place++)
        {
            body.Append(Encoding.UTF8.GetString(FuzzInputs.WithText(fuzz.ValidEvent(), place, "\\ud800"u8.ToArray()))).Append(',');
        }

        body.Append(fuzz.ValidEvent().ToJsonString()).Append(']');
        var socket = await SocketAsync();
        await socket.SendAsync(body.ToString());
        var answers = new List<JsonObject>();
        for (var i = 0; i <= FuzzInputs.TextPlaces.Length; i++)
        {
            answers.Add(await socket.ReceiveFrameAsync(FuzzFixture.AnswerBound));
        }

        Assert.Equal(FuzzInputs.TextPlaces.Length, answers.Count(a => (string?)a["error_code"] == "INVALID_EVENT"));
        Assert.Equal(FuzzInputs.TextPlaces.Length, (int?)answers.Single(a => (string?)a["type"] == "ack")["index"]);
    }

    [Fact]
    public async Task Protocol_violations_close_with_their_codes_and_the_route_keeps_serving()
    {
        Assert.Null(await ExchangeAsync([0xFF, 0xFE, 0x00]));
        Assert.True(_socket!.CloseStatus is null or WebSocketCloseStatus.InvalidPayloadData);

        Assert.Null(await ExchangeAsync(Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString()), WebSocketMessageType.Binary));
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, _socket!.CloseStatus);

        Assert.Null(await ExchangeAsync(Encoding.ASCII.GetBytes("[" + new string(' ', 1024 * 1024) + "]")));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, _socket!.CloseStatus);

        var deep = await ExchangeAsync(Encoding.ASCII.GetBytes(new string('[', 500_000)));
        Assert.Equal("INVALID_JSON", (string?)deep!["error_code"]);

        var ack = await ExchangeAsync(Encoding.UTF8.GetBytes(fuzz.ValidEvent().ToJsonString()));
        Assert.Equal("ack", (string?)ack!["type"]);
        await fuzz.AssertStillServingAsync();
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(FuzzArbitraries)])]
    public async Task Any_query_string_on_either_WebSocket_route_is_an_upgrade_or_a_4xx_ErrorResponse(QueryString query, bool stream)
    {
        var server = fuzz.Gateway.BaseAddress;
        var path = (stream ? "/api/v1/stream/iot.sensors?" : "/api/v1/ingest/iot.sensors?") + query.Text;
        var request = RawHttp.Request("GET", path, $"{server.Host}:{server.Port}",
        [
            "Authorization: Bearer " + GatewayServer.Token(), "Connection: Upgrade", "Upgrade: websocket",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + Convert.ToBase64String(Guid.NewGuid().ToByteArray()),
        ], []);
        var answer = await RawHttp.SendAsync(server, request);

        Assert.NotNull(answer);
        if (answer.Status == 101)
        {
            return;
        }

        if (!answer.Headers.ContainsKey("X-Request-ID"))
        {
            // Refused by Kestrel before the application: a request line over 8 KiB.
            Assert.True(answer.Status is 400 or 414, $"{answer.Status} without a request id");
            return;
        }

        Assert.InRange(answer.Status, 400, 499);
        FuzzAnswer.AssertErrorResponse(answer.Body, path);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_socket is not null)
        {
            await _socket.DisposeAsync();
        }
    }
}
