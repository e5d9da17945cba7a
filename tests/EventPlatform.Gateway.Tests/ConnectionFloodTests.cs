using System.Net;
using System.Net.Sockets;
using EventPlatform.Testing;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// Idle connections past <c>Gateway:MaxConnections</c> are closed as soon as they are accepted, so a
/// client cannot take every file descriptor of the process (which, in <c>up</c>, ran the embedded
/// broker's process out of them and then out of memory); the gateway answers again once they go.
/// </summary>
public sealed class ConnectionFloodTests : IAsyncLifetime
{
    private readonly EmbeddedKafkaFixture _kafka = new();

    public Task InitializeAsync() => _kafka.InitializeAsync();

    public Task DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task Connections_past_the_limit_are_closed_at_once_and_the_gateway_answers_after_the_flood()
    {
        const int limit = 50, flood = 200;
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:MaxConnections"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Every socket of the test comes from 127.0.0.1: lift the per-address share to test the total.
            ["Gateway:MaxConnectionsPerClient"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using (var connections = await ConnectionFlood.OpenAsync(gateway.BaseAddress.Port, flood))
        {
            var open = await connections.OpenAfterServerClosesAsync(limit);
            Assert.True(open <= limit, $"{open} of {flood} idle connections still open, limit {limit}");
            Assert.True(open >= limit / 2, $"only {open} kept: the limit let too few in");
        }

        // Freed: a request is answered again (the server notices the closed sockets at once).
        var answerBy = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var response = await gateway.Client.GetAsync("/api/v1/health");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < answerBy)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task One_address_holds_at_most_its_share_and_another_address_is_served_meanwhile()
    {
        const int perClient = 20, flood = 100;
        await using var gateway = await GatewayServer.StartAsync(_kafka.Cluster, new Dictionary<string, string?>
        {
            ["Gateway:MaxConnections"] = "1000",
            ["Gateway:MaxConnectionsPerClient"] = perClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var connections = await ConnectionFlood.OpenAsync(gateway.BaseAddress.Port, flood);
        var open = await connections.OpenAfterServerClosesAsync(perClient);
        Assert.InRange(open, 1, perClient);

        // Another client (127.0.0.2, loopback too) is served while the flood holds its share.
        using var other = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = gateway.BaseAddress };
        using var response = await other.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
