using System.Buffers;
using System.Security.Cryptography;
using EventPlatform.Core.Events;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// What an idempotency key is remembered with: the topic, the event id and a SHA-256 of the
/// event's content. A retry of the same event matches and is replayed; a different event under a
/// key already used (the same <c>event_id</c> with another payload, say) does not, and is refused
/// instead of being answered with the first event's position and silently dropped.
/// </summary>
internal static class EventFingerprint
{
    /// <summary>The fingerprint of <paramref name="e"/> published to <paramref name="topic"/> (a full topic name).</summary>
    public static string Of(string topic, IngestEvent e)
    {
        // The canonical JSON, in this thread's scratch buffer (no copy); the topic is in the string itself.
        var json = EventJsonWriter.ToThreadBuffer(e);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        if (json.IndexOfAny(" \t\r\n"u8) < 0)
        {
            SHA256.HashData(json, digest);
        }
        else
        {
            var compact = ArrayPool<byte>.Shared.Rent(json.Length);
            SHA256.HashData(compact.AsSpan(0, CopyWithoutWhitespace(json, compact)), digest);
            ArrayPool<byte>.Shared.Return(compact);
        }

        return topic + "\u001f" + e.EventId + "\u001f" + Convert.ToBase64String(digest);
    }

    /// <summary>
    /// Copies JSON without the whitespace between tokens: payload and metadata keep the client's
    /// bytes, so the same event sent compact or indented must still match. Whitespace inside
    /// strings is content and kept. Returns the length written.
    /// </summary>
    private static int CopyWithoutWhitespace(ReadOnlySpan<byte> json, Span<byte> output)
    {
        var length = 0;
        var inString = false;
        var escaped = false;
        foreach (var b in json)
        {
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    escaped = true;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                continue;
            }

            output[length++] = b;
        }

        return length;
    }
}
