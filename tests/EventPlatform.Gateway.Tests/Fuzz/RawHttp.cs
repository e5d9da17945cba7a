using System.Net.Sockets;
using System.Text;

namespace EventPlatform.Gateway.Tests.Fuzz;

/// <summary>
/// HTTP/1.1 written by hand over a socket, for what HttpClient will not send: wrong
/// Content-Length, bodies cut short, a WebSocket upgrade whose refusal body we want to read.
/// </summary>
internal static class RawHttp
{
    public sealed record Answer(int Status, Dictionary<string, string> Headers, byte[] Body);

    /// <summary>
    /// Sends <paramref name="request"/> (optionally half-closing after it) and reads one answer, or
    /// null when the server closed without answering.
    /// </summary>
    public static async Task<Answer?> SendAsync(Uri server, byte[] request, bool halfClose = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? FuzzFixture.AnswerBound);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, cts.Token);
        if (halfClose)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int headerEnd;
        while ((headerEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                return null;
            }

            received.Write(buffer, 0, n);
        }

        var head = Encoding.ASCII.GetString(received.GetBuffer(), 0, headerEnd).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Skip(1).Select(h => h.Split(':', 2)).ToDictionary(h => h[0].Trim(), h => h[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = received.ToArray()[(headerEnd + 4)..];
        if (status == 101)
        {
            return new Answer(status, headers, []);
        }

        if (headers.TryGetValue("Content-Length", out var lengthText))
        {
            var length = int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture);
            var all = new MemoryStream();
            all.Write(body);
            while (all.Length < length)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    break;
                }

                all.Write(buffer, 0, n);
            }

            body = all.ToArray();
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var all = new MemoryStream();
            all.Write(body);
            while (IndexOf(all, "0\r\n\r\n"u8) < 0)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    break;
                }

                all.Write(buffer, 0, n);
            }

            body = Dechunk(all.ToArray());
        }

        return new Answer(status, headers, body);
    }

    public static byte[] Request(string method, string target, string host, IEnumerable<string> headers, byte[] body)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: ").Append(host).Append("\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    private static int IndexOf(MemoryStream stream, ReadOnlySpan<byte> value) =>
        stream.GetBuffer().AsSpan(0, (int)stream.Length).IndexOf(value);

    private static byte[] Dechunk(byte[] chunked)
    {
        var output = new MemoryStream();
        var i = 0;
        while (i < chunked.Length)
        {
            var lineEnd = chunked.AsSpan(i).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }

            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, i, lineEnd).Split(';')[0], 16);
            i += lineEnd + 2;
            if (size == 0)
            {
                break;
            }

            output.Write(chunked, i, Math.Min(size, chunked.Length - i));
            i += size + 2;
        }

        return output.ToArray();
    }
}
