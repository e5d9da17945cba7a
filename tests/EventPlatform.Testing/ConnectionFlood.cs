using System.Net;
using System.Net.Sockets;

namespace EventPlatform.Testing;

/// <summary>
/// Idle TCP connections to a loopback port, as a client flooding a listener opens them: a connection
/// the server refuses, resets or closes counts as closed.
/// </summary>
public sealed class ConnectionFlood : IDisposable
{
    private readonly List<Socket> _sockets = [];

    private ConnectionFlood()
    {
    }

    /// <summary>Opens <paramref name="count"/> connections to 127.0.0.1:<paramref name="port"/>, one after the other.</summary>
    public static async Task<ConnectionFlood> OpenAsync(int port, int count)
    {
        var flood = new ConnectionFlood();
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            flood._sockets.Add(socket);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                // Refused or reset while connecting: as good as closed.
            }
        }

        return flood;
    }

    /// <summary>
    /// The connections still open once the server has closed what it does not keep: waits up to 20 s
    /// for at most <paramref name="expectedAtMost"/> to remain, and returns how many do.
    /// </summary>
    public async Task<int> OpenAfterServerClosesAsync(int expectedAtMost)
    {
        var closeBy = DateTime.UtcNow.AddSeconds(20);
        int open;
        do
        {
            await Task.Delay(200);
            open = _sockets.Count(IsOpen);
        }
        while (open > expectedAtMost && DateTime.UtcNow < closeBy);

        return open;
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

    /// <summary>Connected, and the server has not closed it (a closed socket reads end-of-stream).</summary>
    private static bool IsOpen(Socket socket)
    {
        try
        {
            return socket.Connected && !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
