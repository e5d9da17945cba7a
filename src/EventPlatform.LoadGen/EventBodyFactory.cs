using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventPlatform.LoadGen;

/// <summary>
/// Writes request bodies as UTF-8 bytes from pre-rendered pieces.
/// </summary>
/// <remarks>
/// Why not a serializer: the generator shares a 2-core machine with the gateway and the broker,
/// so every CPU cycle it spends is taken from the system under test. A body here is a handful
/// of span copies plus two integers formatted in place, with no reflection and no object graph.
/// Keys are drawn from <see cref="KeyPoolSize"/> ids so that every Kafka partition gets traffic.
/// Thread-safe.
/// </remarks>
internal sealed class EventBodyFactory
{
    public const int KeyPoolSize = 10_000;
    private const int PayloadVariants = 256;

    [ThreadStatic]
    private static byte[]? scratch;

    private readonly byte[] eventIdPrefix;
    private readonly byte[] afterTimestamp;
    private readonly bool withUserId;
    private readonly byte[][] payloads;
    private readonly int maxEventBytes;
    private long sequence;

    private static readonly string[] Actions = ["view", "click", "add_to_cart", "scroll"];
    private static readonly string[] Currencies = ["USD", "EUR", "GBP", "JPY"];

    public EventBodyFactory(string topic, string runId)
    {
        var (eventType, payloadFor, withUser) = topic switch
        {
            "iot.sensors" => ("iot.sensor", (Func<Random, string>)(r => Invariant($"{{\"temperature\":{15 + r.NextDouble() * 20:F1},\"humidity\":{30 + r.NextDouble() * 60:F1}}}")), false),
            "clickstream" => ("clickstream", r => Invariant($"{{\"page\":\"/products/{r.Next(1, 5000)}\",\"action\":\"{Actions[r.Next(Actions.Length)]}\"}}"), true),
            "transactions" => ("transaction", r => Invariant($"{{\"amount\":{r.Next(100, 100_000) / 100.0:F2},\"currency\":\"{Currencies[r.Next(Currencies.Length)]}\"}}"), true),
            _ => (topic, r => Invariant($"{{\"value\":{r.Next(1000)}}}"), false),
        };

        var random = new Random(42);
        payloads = [.. Enumerable.Range(0, PayloadVariants).Select(_ => Encoding.UTF8.GetBytes(payloadFor(random)))];
        eventIdPrefix = Encoding.UTF8.GetBytes($"{{\"event_id\":\"evt_{runId}_");
        afterTimestamp = Encoding.UTF8.GetBytes($"\",\"event_type\":\"{JsonEncodedText.Encode(eventType)}\",\"user_id\":");
        withUserId = withUser;
        // The fixed pieces, the longest payload, and generous room for the numbers and the timestamp.
        maxEventBytes = eventIdPrefix.Length + afterTimestamp.Length + payloads.Max(p => p.Length) + 200;
    }

    /// <summary>One event object, or a JSON array of <paramref name="count"/> events when <paramref name="asArray"/>.</summary>
    public byte[] Create(int count, bool asArray)
    {
        var buffer = scratch ??= new byte[64 * 1024];
        var needed = (count * (maxEventBytes + 1)) + 2;
        if (buffer.Length < needed)
        {
            buffer = scratch = new byte[Math.Max(needed, buffer.Length * 2)];
        }

        // One timestamp per body: the events of a batch are taken to happen together.
        Span<byte> timestamp = stackalloc byte[32];
        DateTime.UtcNow.TryFormat(timestamp, out var timestampLength, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        timestamp = timestamp[..timestampLength];

        var first = Interlocked.Add(ref sequence, count) - count;
        var random = Random.Shared;
        var span = buffer.AsSpan();
        var n = 0;
        if (asArray)
        {
            span[n++] = (byte)'[';
        }

        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                span[n++] = (byte)',';
            }

            Append(span, ref n, eventIdPrefix);
            Utf8Formatter.TryFormat(first + i, span[n..], out var written);
            n += written;
            Append(span, ref n, "\",\"timestamp\":\""u8);
            Append(span, ref n, timestamp);
            Append(span, ref n, afterTimestamp);
            if (withUserId)
            {
                Append(span, ref n, "\"user_"u8);
                Utf8Formatter.TryFormat(random.Next(KeyPoolSize), span[n..], out written);
                n += written;
                Append(span, ref n, "\""u8);
            }
            else
            {
                Append(span, ref n, "null"u8);
            }

            Append(span, ref n, ",\"device_id\":\"device_"u8);
            Utf8Formatter.TryFormat(random.Next(KeyPoolSize), span[n..], out written);
            n += written;
            Append(span, ref n, "\",\"payload\":"u8);
            Append(span, ref n, payloads[random.Next(PayloadVariants)]);
            Append(span, ref n, ",\"metadata\":{\"source\":\"loadgen\"}}"u8);
        }

        if (asArray)
        {
            span[n++] = (byte)']';
        }

        return span[..n].ToArray();
    }

    private static void Append(Span<byte> span, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[n..]);
        n += bytes.Length;
    }

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}
