using System.Globalization;

namespace EventPlatform.Core.Events;

/// <summary>
/// The event times the gateway accepts, judged against its clock when an event is read.
/// </summary>
/// <remarks>
/// <para>
/// Kafka stores an event's <c>timestamp</c> as its record timestamp (milliseconds since the Unix
/// epoch, never negative), so a time before 1970 can never be written; the reader refuses it
/// whatever the bounds. Kafka 4 brokers also refuse records more than an hour ahead of their own
/// clock by default (<c>log.message.timestamp.after.max.ms</c>), so an event that far in the future
/// is refused here, with a clear reason, rather than failing at the broker. How old an event may be
/// is unbounded unless <see cref="MaxAge"/> is set (Kafka's <c>log.message.timestamp.before.max.ms</c>
/// is unbounded by default too).
/// </para>
/// <para>Immutable and thread-safe; "now" is read once per request body from <see cref="Time"/>.</para>
/// </remarks>
public sealed class EventTimeBounds
{
    /// <summary>Kafka 4's default <c>log.message.timestamp.after.max.ms</c>: one hour.</summary>
    public static readonly TimeSpan DefaultMaxAhead = TimeSpan.FromHours(1);

    public EventTimeBounds(TimeProvider time, TimeSpan maxAhead, TimeSpan? maxAge = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAhead, TimeSpan.Zero);
        if (maxAge is { } age)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(age, TimeSpan.Zero, nameof(maxAge));
        }

        Time = time;
        MaxAhead = maxAhead;
        MaxAge = maxAge;
    }

    /// <summary>The clock events are judged against.</summary>
    public TimeProvider Time { get; }

    /// <summary>How far ahead of <see cref="Time"/> an event's timestamp may be.</summary>
    public TimeSpan MaxAhead { get; }

    /// <summary>How far behind <see cref="Time"/> an event's timestamp may be; null for no limit.</summary>
    public TimeSpan? MaxAge { get; }

    /// <summary>Why <paramref name="timestamp"/> is refused at <paramref name="now"/>, or null when it is accepted.</summary>
    internal string? Check(DateTimeOffset timestamp, DateTimeOffset now)
    {
        // Compared as distances so that bounds near DateTimeOffset's ends cannot overflow.
        if (timestamp > now && timestamp - now > MaxAhead)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"is more than {Describe(MaxAhead)} ahead of the gateway's clock ({now.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'})");
        }

        if (MaxAge is { } maxAge && timestamp < now && now - timestamp > maxAge)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"is more than {Describe(maxAge)} behind the gateway's clock ({now.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'})");
        }

        return null;
    }

    private static string Describe(TimeSpan span) =>
        span.TotalSeconds < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.###} ms")
        : span.TotalMinutes < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s")
        : span.TotalHours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.###} min")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.###} h");
}
