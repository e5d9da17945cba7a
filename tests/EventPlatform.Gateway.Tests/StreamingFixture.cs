using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using EventPlatform.Gateway.Streaming;
using EventPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// One embedded broker and two gateways on it (dynamic topics on, so each test can have topics
/// of its own), a raw producer for records that did not come through a gateway, and a lookup
/// consumer. Shared by the <see cref="StreamingCollection"/>.
/// </summary>
public sealed class StreamingFixture : IAsyncLifetime
{
    public const int Partitions = 3;

    private readonly EmbeddedKafkaFixture _kafka = new();
    private IConsumer<byte[]?, byte[]>? _lookup;

    /// <summary>The gateway most tests use.</summary>
    public GatewayServer Gateway { get; private set; } = null!;

    /// <summary>A second gateway instance on the same broker.</summary>
    public GatewayServer Other { get; private set; } = null!;

    /// <summary>Writes straight to Kafka, bypassing the gateways (another producer of the platform).</summary>
    public IProducer<byte[]?, byte[]> Raw { get; private set; } = null!;

    public EmbeddedKafkaFixture Kafka => _kafka;

    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Gateway:DynamicTopics"] = "true",
        ["Gateway:DynamicTopicPartitions"] = Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:Streaming:HubIdleTimeout"] = "00:00:00.300",
        ["Kafka:Producer:LingerMs"] = "1",
        // These tests reuse event ids across topics; idempotent publishing has its own tests.
        ["Gateway:Idempotency:Enabled"] = "false",
    };

    public async Task InitializeAsync()
    {
        await _kafka.InitializeAsync();
        Gateway = await GatewayServer.StartAsync(_kafka.Cluster, Settings);
        Other = await GatewayServer.StartAsync(_kafka.Cluster, Settings);
        Raw = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, LingerMs = 0, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        _lookup = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = "lookup",
            FetchWaitMaxMs = 5,
            EnableAutoCommit = false,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).Build();
    }

    /// <summary>A new topic of <see cref="Partitions"/> partitions and the event type that routes to it.</summary>
    public (string EventType, string Topic) NewTopic(string prefix)
    {
        var eventType = prefix + "-" + Guid.NewGuid().ToString("N")[..10];
        var topic = "events." + eventType;
        _kafka.Cluster.CreateTopic(topic, Partitions, 1);
        return (eventType, topic);
    }

    /// <summary>The hubs of <see cref="Gateway"/>.</summary>
    internal StreamHubRegistry Hubs => Gateway.App.Services.GetRequiredService<StreamHubRegistry>();

    /// <summary>The record Kafka holds at exactly this position (a fresh read from the broker).</summary>
    public ConsumeResult<byte[]?, byte[]> RecordAt(string topic, int partition, long offset)
    {
        lock (_lookup!)
        {
            _lookup.Assign(new TopicPartitionOffset(topic, partition, offset));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                var record = _lookup.Consume(TimeSpan.FromMilliseconds(200));
                if (record?.Message is not null)
                {
                    return record;
                }
            }

            throw new TimeoutException($"No record at {topic}[{partition}]@{offset}");
        }
    }

    /// <summary>A key that the gateway's partitioner puts on <paramref name="partition"/>.</summary>
    public static string KeyFor(int partition, string salt = "")
    {
        for (var i = 0; ; i++)
        {
            var key = $"key{salt}-{i}";
            if (Core.Routing.KafkaMurmur2.Partition(Encoding.UTF8.GetBytes(key), Partitions) == partition)
            {
                return key;
            }
        }
    }

    public async Task DisposeAsync()
    {
        _lookup?.Close();
        _lookup?.Dispose();
        Raw?.Dispose();
        await Other.DisposeAsync();
        await Gateway.DisposeAsync();
        await _kafka.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class StreamingCollection : ICollectionFixture<StreamingFixture>
{
    public const string Name = "streaming";
}

/// <summary>A real <see cref="ClientWebSocket"/> on a gateway route, reading whole JSON messages.</summary>
public sealed class TestSocket : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private TestSocket(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<TestSocket> ConnectAsync(GatewayServer server, string path, string? token = null, bool withToken = true)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (withToken)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + (token ?? GatewayServer.Token()));
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await socket.ConnectAsync(ToWebSocket(server, path), timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TestSocket(socket);
    }

    /// <summary>Connects expecting a refusal; returns the HTTP status the server answered.</summary>
    public static async Task<System.Net.HttpStatusCode> ConnectRefusedAsync(GatewayServer server, string path, bool withToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (withToken)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + GatewayServer.Token());
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ToWebSocket(server, path), timeout.Token));
        return socket.HttpStatusCode;
    }

    public static Uri ToWebSocket(GatewayServer server, string path) =>
        new UriBuilder(new Uri(server.BaseAddress, path)) { Scheme = "ws" }.Uri;

    public Task SendAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendAsync(JsonNode node) => SendAsync(node.ToJsonString());

    /// <summary>The next whole message as JSON, or null when the server closed (see <see cref="CloseStatus"/>).</summary>
    public async Task<JsonObject?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var received = await Socket.ReceiveAsync(buffer, cts.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(message.ToArray())!.AsObject();
            }
        }
    }

    /// <summary>The next message, which must be a JSON message (not a close).</summary>
    public async Task<JsonObject> ReceiveFrameAsync(TimeSpan? timeout = null) =>
        await ReceiveAsync(timeout) ?? throw new InvalidOperationException($"The server closed the socket: {CloseStatus} {Socket.CloseStatusDescription}");

    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Already gone.
        }

        Socket.Dispose();
    }
}
