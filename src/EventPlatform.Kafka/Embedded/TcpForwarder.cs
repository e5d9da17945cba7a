using System.Net;
using System.Net.Sockets;

namespace EventPlatform.Kafka.Embedded;

/// <summary>
/// A stable bootstrap address for the embedded brokers, whose own ports are random: each
/// connection is relayed to the first broker that accepts it, trying them in turn.
/// </summary>
/// <remarks>
/// Clients only bootstrap here; the metadata they receive names the brokers' own addresses,
/// which they then use directly. So the relay carries little traffic, and a broker that is down
/// (refusing connections) is simply skipped.
/// </remarks>
internal sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint[] _brokers;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly int _maxConnections;
    private int _next;
    private int _relaying;

    public TcpForwarder(TcpListener listener, IPEndPoint[] brokers, int maxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        _listener = listener;
        _brokers = brokers;
        _maxConnections = maxConnections;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>Binds 127.0.0.1:<paramref name="port"/>, with a clear message when it is taken.</summary>
    public static TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start(backlog: 512);
            return listener;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new InvalidOperationException(
                $"Port {port} on 127.0.0.1 is already in use, so the embedded broker cannot offer its bootstrap address there. " +
                "Stop whatever holds it (another Kafka or another 'up'), or set KAFKA_BOOTSTRAP_SERVERS to use that cluster instead.", ex);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // Out of file descriptors, say: the pending connection stays queued and accept fails
                // again at once, so pause rather than spin.
                try
                {
                    await Task.Delay(50, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _relaying) > _maxConnections)
            {
                Interlocked.Decrement(ref _relaying);
                client.Dispose();
                continue;
            }

            _ = RelayThenReleaseAsync(client);
        }
    }

    private async Task RelayThenReleaseAsync(Socket client)
    {
        try
        {
            await RelayAsync(client).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _relaying);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using (client)
        {
            using var upstream = await ConnectToAnyBrokerAsync().ConfigureAwait(false);
            if (upstream is null)
            {
                return;
            }

            client.NoDelay = true;
            upstream.NoDelay = true;
            await using var a = new NetworkStream(client, ownsSocket: false);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            var up = a.CopyToAsync(b, _stop.Token);
            var down = b.CopyToAsync(a, _stop.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);

            // One side closed: close both, so the other copy ends too.
            client.Close();
            upstream.Close();
            try
            {
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Expected when a connection is torn down mid-copy.
            }
        }
    }

    private async Task<Socket?> ConnectToAnyBrokerAsync()
    {
        var start = Interlocked.Increment(ref _next);
        for (var i = 0; i < _brokers.Length; i++)
        {
            var broker = _brokers[(int)((uint)(start + i) % (uint)_brokers.Length)];
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(broker, _stop.Token).ConfigureAwait(false);
                return socket;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
            }
        }

        return null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // The loop ends by cancellation; nothing to report.
        }

        _stop.Dispose();
    }
}
