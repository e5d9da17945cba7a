using System.Security.Cryptography;
using System.Text;
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
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(topic));
        hash.AppendData([0x1f]);
        AppendWithoutWhitespace(hash, EventJsonWriter.ToUtf8Bytes(e));
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return topic + "\u001f" + e.EventId + "\u001f" + Convert.ToBase64String(digest);
    }

    /// <summary>
    /// Appends canonical JSON without the whitespace between tokens: payload and metadata keep the
    /// client's bytes, so the same event sent compact or indented must still match. Whitespace
    /// inside strings is content and kept.
    /// </summary>
    private static void AppendWithoutWhitespace(IncrementalHash hash, ReadOnlySpan<byte> json)
    {
        var inString = false;
        var escaped = false;
        var runStart = 0;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
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
                hash.AppendData(json[runStart..i]);
                runStart = i + 1;
            }
        }

        hash.AppendData(json[runStart..]);
    }
}
