using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using EventPlatform.Core.Events;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// What an idempotency key is remembered with: one 128-bit hash (XxHash128) of the topic and the
/// event's content, event id included. A non-cryptographic hash is enough here: the fingerprint is
/// only ever compared under one subject's own key, so a crafted collision could fool only its author. A retry of the same event matches and is replayed; a different event under a
/// key already used (the same <c>event_id</c> with another payload, say) does not, and is refused
/// instead of being answered with the first event's position and silently dropped.
/// </summary>
internal static class EventFingerprint
{
    /// <summary>The 128-bit fingerprint of <paramref name="e"/> published to <paramref name="topic"/> (a full topic name).</summary>
    public static UInt128 Of(string topic, IngestEvent e)
    {
        // The canonical JSON (it holds the event id), in this thread's scratch buffer (no copy).
        var json = EventJsonWriter.ToThreadBuffer(e);
        var hash = new XxHash128();
        hash.Append(MemoryMarshal.AsBytes(topic.AsSpan()));
        hash.Append([0x1f]);
        if (json.IndexOfAny(" \t\r\n"u8) < 0)
        {
            hash.Append(json);
        }
        else
        {
            var compact = ArrayPool<byte>.Shared.Rent(json.Length);
            hash.Append(compact.AsSpan(0, CopyWithoutWhitespace(json, compact)));
            ArrayPool<byte>.Shared.Return(compact);
        }

        return hash.GetCurrentHashAsUInt128();
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
