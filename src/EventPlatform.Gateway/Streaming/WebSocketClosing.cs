using System.Net.WebSockets;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// Cuts a WebSocket off when closing takes too long: a client that stopped reading (a send that
/// never completes) or that never answers the close handshake. Armed once; then, after
/// <see cref="StreamingOptions.CloseTimeout"/>, the socket is aborted.
/// </summary>
internal sealed class CloseDeadline : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenRegistration _registration;
    private readonly TimeSpan _timeout;
    private int _armed;

    public CloseDeadline(WebSocket socket, TimeSpan timeout, TimeProvider time)
    {
        _timeout = timeout;
        _timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _registration = _timer.Token.Register(static s => ((WebSocket)s!).Abort(), socket);
    }

    /// <summary>Starts the countdown (the first call only). Thread-safe.</summary>
    public void Arm()
    {
        if (Interlocked.Exchange(ref _armed, 1) != 0)
        {
            return;
        }

        try
        {
            _timer.CancelAfter(_timeout);
        }
        catch (ObjectDisposedException)
        {
            // The connection is over already.
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        _timer.Dispose();
    }
}

/// <summary>The close handshake, done the same way by every WebSocket route.</summary>
internal static class WebSocketClosing
{
    /// <summary>
    /// Reads and discards what the client sends until its close frame arrives or the connection
    /// is gone; then calls <paramref name="onClosed"/>. Never throws.
    /// </summary>
    public static async Task ReceiveUntilCloseAsync(WebSocket socket, Action? onClosed)
    {
        var buffer = new byte[512];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // Aborted or reset: nothing more will come.
        }
        finally
        {
            onClosed?.Invoke();
        }
    }

    /// <summary>
    /// Sends our close frame (or answers the client's), then waits for the client's, all within
    /// the <paramref name="deadline"/>. <paramref name="receiving"/> is the loop still reading the
    /// socket, if any; without one, this reads until the client's close frame itself. Never throws.
    /// </summary>
    public static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string description, Task? receiving, CloseDeadline deadline)
    {
        deadline.Arm();
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, description, CancellationToken.None).ConfigureAwait(false);
            }

            if (receiving is not null)
            {
                await receiving.ConfigureAwait(false);
            }
            else if (socket.State == WebSocketState.CloseSent)
            {
                await ReceiveUntilCloseAsync(socket, null).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // The client went away while closing: nothing to tell it any more.
        }
    }

    /// <summary>The exceptions a socket throws when its connection is aborted, reset or disposed.</summary>
    public static bool IsConnectionGone(Exception ex) =>
        ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException;
}
