using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using EventPlatform.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>
/// WebSocket ingest with every limit on, against a model: random sequences of messages (new events,
/// resent events, events reusing an id with another payload, invalid events, garbage, arrays of
/// them) from one client, with more sockets than it may hold. Each message is answered exactly as
/// the model says (its events' slots, or one RATE_LIMITED frame when the allowance cannot take them
/// all), and Kafka holds exactly the events acknowledged for the first time.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class LimitedSocketFuzzTests : IAsyncLifetime
{
    private const int EventsPerWindow = 12;
    private const int SocketsPerClient = 2;
    private const string Topic = "events.iot.sensors";
    private readonly EmbeddedKafkaFixture _kafka = new();
    private RegistryServer _registry = null!;
    private GatewayServer _gateway = null!;
    private Confluent.Kafka.IConsumer<byte[]?, byte[]> _watermarks = null!;

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        _registry = await RegistryServer.StartAsync(_kafka.Cluster);
        _gateway = await GatewayServer.StartAsync(_kafka.Cluster, GatewayServer.WithRegistry(_registry, new Dictionary<string, string?>
        {
            ["Gateway:Idempotency:Enabled"] = "true",
            ["Gateway:RateLimit:Enabled"] = "true",
            ["Gateway:RateLimit:PermitsPerWindow"] = "100000",
            ["Gateway:RateLimit:EventsPerWindow"] = EventsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:RateLimit:Window"] = "01:00:00",
            ["Gateway:RateLimit:IngestSocketsPerClient"] = SocketsPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:MaxBatchEvents"] = "5",
        }));
        _watermarks = new Confluent.Kafka.ConsumerBuilder<byte[]?, byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "limited-fuzz" }).Build();
    }

    public async Task DisposeAsync()
    {
        _watermarks.Dispose();
        await _gateway.DisposeAsync();
        await _registry.DisposeAsync();
        await _kafka.DisposeAsync();
    }

    public enum Piece
    {
        New,
        Resend,
        Reuse,
        Invalid,
        Garbage,
    }

    /// <summary>One message: a lone piece, or an array of pieces (garbage only alone: it is not JSON).</summary>
    public sealed record Message(bool Array, Piece[] Pieces);

    public sealed record Session(Message[] Messages, int ExtraSockets);

    public static class Arbitraries
    {
        public static Arbitrary<Session> Sessions() => Arb.From(
            from messages in Message().ListOf().Select(m => m.Take(12).ToArray())
            from extra in Gen.Choose(0, 3)
            select new Session(messages, extra));

        private static Gen<Message> Message()
        {
            var piece = Gen.Frequency((4, Gen.Constant(Piece.New)), (2, Gen.Constant(Piece.Resend)), (1, Gen.Constant(Piece.Reuse)), (1, Gen.Constant(Piece.Invalid)));
            var lone = from p in Gen.Frequency((6, piece), (1, Gen.Constant(Piece.Garbage))) select new Message(false, [p]);
            var array = from n in Gen.Choose(1, 5) from ps in Gen.ArrayOf(piece, n) select new Message(true, ps);
            return Gen.OneOf(lone, array);
        }
    }

    [Property(MaxTest = 25, Arbitrary = [typeof(Arbitraries)])]
    public async Task Messages_are_answered_as_the_model_says_and_only_first_acks_are_written(Session session)
    {
        var subject = $"fuzz-limited-{Guid.NewGuid():N}";
        var token = GatewayServer.Token(subject);
        var before = RecordsIn(Topic);
        await using var socket = await TestSocket.ConnectAsync(_gateway, "api/v1/ingest/iot.sensors", token);

        // Sockets beyond the client's share are refused at the upgrade; the first one is still open.
        var extra = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < session.ExtraSockets; i++)
            {
                var (status, opened) = await TryConnectAsync(token);
                Assert.Equal(i < SocketsPerClient - 1, opened is not null);
                Assert.Equal(i < SocketsPerClient - 1 ? HttpStatusCode.SwitchingProtocols : HttpStatusCode.TooManyRequests, status);
                if (opened is not null)
                {
                    extra.Add(opened);
                }
            }
        }
        finally
        {
            foreach (var s in extra)
            {
                s.Abort();
                s.Dispose();
            }
        }

        var remaining = EventsPerWindow;
        var acked = new Dictionary<string, (int Partition, long Offset)>();
        var sent = new List<string>();
        var firstWrites = 0;
        foreach (var message in session.Messages)
        {
            // The events of the message, and what each should get.
            var events = new List<(JsonObject? Event, string Expected)>();
            foreach (var piece in message.Pieces)
            {
                switch (piece)
                {
                    case Piece.Resend when sent.Count > 0:
                    {
                        var id = sent[^1];
                        events.Add((Event(id), acked.ContainsKey(id) ? "replay" : "any"));
                        break;
                    }

                    case Piece.Reuse when acked.Count > 0:
                    {
                        var e = Event(acked.Keys.First());
                        e["payload"]!["temperature"] = 1.5;
                        events.Add((e, "IDEMPOTENCY_KEY_REUSED"));
                        break;
                    }

                    case Piece.Invalid:
                    {
                        var e = Event($"evt_lf_{Guid.NewGuid():N}");
                        e.Remove("event_type");
                        events.Add((e, "INVALID_EVENT"));
                        break;
                    }

                    case Piece.Garbage:
                        events.Add((null, "INVALID_JSON"));
                        break;

                    default:
                    {
                        var id = $"evt_lf_{Guid.NewGuid():N}";
                        events.Add((Event(id), "new"));
                        break;
                    }
                }
            }

            var text = message.Array
                ? new JsonArray([.. events.Select(e => (JsonNode)e.Event!.DeepClone())]).ToJsonString()
                : events[0].Event?.ToJsonString() ?? "{\"event_id\": [unterminated";
            await socket.SendAsync(text);

            if (events.Count > remaining)
            {
                var limited = await socket.ReceiveFrameAsync(FuzzFixture.AnswerBound);
                Assert.Equal("RATE_LIMITED", (string?)limited["error_code"]);
                Assert.Null((int?)limited["index"]);
                Assert.True((int)limited["details"]!["retry_after_seconds"]! >= 1);
                continue;
            }

            remaining -= events.Count;
            var frames = new JsonObject[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                var frame = await socket.ReceiveFrameAsync(FuzzFixture.AnswerBound);
                frames[message.Array ? (int)frame["index"]! : 0] = frame;
            }

            for (var i = 0; i < events.Count; i++)
            {
                var (e, expected) = events[i];
                var frame = frames[i];
                var id = (string?)e?["event_id"];
                switch (expected)
                {
                    case "new":
                        Assert.Equal("ack", (string?)frame["type"]);
                        acked[id!] = ((int)frame["partition"]!, (long)frame["offset"]!);
                        sent.Add(id!);
                        firstWrites++;
                        break;
                    case "replay":
                        Assert.Equal("ack", (string?)frame["type"]);
                        Assert.Equal(acked[id!], ((int)frame["partition"]!, (long)frame["offset"]!));
                        break;
                    case "any":
                        break;
                    default:
                        Assert.Equal(expected, (string?)frame["error_code"]);
                        break;
                }
            }
        }

        Assert.Equal(before + firstWrites, RecordsIn(Topic));
    }

    private static JsonObject Event(string id) => new()
    {
        ["event_id"] = id,
        ["timestamp"] = "2024-01-15T10:30:00Z",
        ["event_type"] = "iot.sensor",
        ["device_id"] = "device_456",
        ["payload"] = new JsonObject { ["temperature"] = 22.5, ["humidity"] = 65.0 },
    };

    private async Task<(HttpStatusCode Status, ClientWebSocket? Socket)> TryConnectAsync(string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        using var timeout = new CancellationTokenSource(FuzzFixture.AnswerBound);
        try
        {
            await socket.ConnectAsync(TestSocket.ToWebSocket(_gateway, "api/v1/ingest/iot.sensors"), timeout.Token);
            return (socket.HttpStatusCode, socket);
        }
        catch (WebSocketException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            return (status, null);
        }
    }

    /// <summary>Records in the topic (sum of its partitions' high watermarks).</summary>
    private long RecordsIn(string topic)
    {
        using var admin = new Confluent.Kafka.DependentAdminClientBuilder(_watermarks.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId);
        return partitions.Sum(p => _watermarks.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }
}
