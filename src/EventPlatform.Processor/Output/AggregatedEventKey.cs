using System.Globalization;
using System.Text;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Processor.Output;

/// <summary>
/// The record key of an <c>events.aggregated</c> result: the window's identity as a deterministic
/// string, so that downstream stores upsert by key and a replay after a crash writes the same keys.
/// </summary>
/// <remarks>
/// <para>
/// The format is <c>{event_type}|{kind}|{size_ms}|{window_start}</c>, with <c>{size_ms}/{slide_ms}</c>
/// for sliding windows and <c>|{window_key}</c> appended for keyed windows. The start is UTC ISO 8601
/// with milliseconds. Examples:
/// <c>iot.sensor|tumbling|60000|2024-01-15T10:30:00.000Z</c>,
/// <c>transaction|sliding|300000/60000|2024-01-15T10:26:00.000Z</c>,
/// <c>clickstream|session|1800000|2024-01-15T10:30:12.345Z|user-42</c>.
/// </para>
/// <para>
/// The window's end is not part of the key: for tumbling and sliding windows it follows from the start,
/// and a session that grows keeps its key while its start stays. A session that merges with an earlier
/// one takes the earlier start, so its key changes; the result under the superseded key stays as
/// written. Event types are topic names (letters, digits, '.', '_', '-'), so they never hold a '|';
/// the window key comes last, so it may.
/// </para>
/// </remarks>
public static class AggregatedEventKey
{
    /// <summary>The key of the result for <paramref name="eventType"/> in <paramref name="window"/>, with the window's key when keyed.</summary>
    public static string Of(string eventType, WindowIdentity window, string? windowKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(window.Window.Start);
        var builder = new StringBuilder(eventType.Length + 48 + (windowKey?.Length ?? 0));
        builder.Append(eventType).Append('|').Append(KindName(window.Kind)).Append('|');
        builder.Append(window.Size.ToString(CultureInfo.InvariantCulture));
        if (window.Kind == WindowKind.Sliding)
        {
            builder.Append('/').Append(window.Slide.ToString(CultureInfo.InvariantCulture));
        }

        builder.Append('|').Append(start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        if (windowKey is not null)
        {
            builder.Append('|').Append(windowKey);
        }

        return builder.ToString();
    }

    /// <summary>The key as the record's key bytes (UTF-8, as Confluent's string serializer writes it).</summary>
    public static byte[] Utf8(string eventType, WindowIdentity window, string? windowKey) =>
        Encoding.UTF8.GetBytes(Of(eventType, window, windowKey));

    /// <summary>The name of <paramref name="kind"/> in keys and in the record's <c>window_kind</c>.</summary>
    public static string KindName(WindowKind kind) => kind switch
    {
        WindowKind.Tumbling => "tumbling",
        WindowKind.Sliding => "sliding",
        WindowKind.Session => "session",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
