using System.Globalization;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>The proto3 JSON forms of google.protobuf.Timestamp and Duration.</summary>
internal static class ProtoTimeJson
{
    /// <summary>0001-01-01T00:00:00Z, the earliest valid Timestamp.</summary>
    public const long MinTimestampSeconds = -62135596800;

    /// <summary>9999-12-31T23:59:59Z, the latest valid Timestamp.</summary>
    public const long MaxTimestampSeconds = 253402300799;

    /// <summary>About 10,000 years, the largest valid Duration.</summary>
    public const long MaxDurationSeconds = 315576000000;

    private const int NanosPerSecond = 1_000_000_000;

    /// <summary>RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, e.g. <c>2024-05-01T10:00:00.250Z</c>.</summary>
    public static string FormatTimestamp(long seconds, int nanos)
    {
        if (seconds is < MinTimestampSeconds or > MaxTimestampSeconds || nanos is < 0 or >= NanosPerSecond)
        {
            throw new ProtobufDecodeException($"Timestamp out of range (seconds {seconds}, nanos {nanos})");
        }

        var time = DateTime.UnixEpoch.AddSeconds(seconds);
        return time.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture) + Fraction(nanos) + "Z";
    }

    /// <summary>Seconds with 0, 3, 6 or 9 fraction digits and an <c>s</c>, e.g. <c>-1.500s</c>.</summary>
    public static string FormatDuration(long seconds, int nanos)
    {
        var sameSign = seconds == 0 || nanos == 0 || (seconds < 0) == (nanos < 0);
        if (seconds is < -MaxDurationSeconds or > MaxDurationSeconds || nanos is <= -NanosPerSecond or >= NanosPerSecond || !sameSign)
        {
            throw new ProtobufDecodeException($"Duration out of range (seconds {seconds}, nanos {nanos})");
        }

        var sign = seconds < 0 || nanos < 0 ? "-" : string.Empty;
        return sign + Math.Abs(seconds).ToString(CultureInfo.InvariantCulture) + Fraction(Math.Abs(nanos)) + "s";
    }

    /// <summary>Parses an RFC 3339 timestamp (any offset, up to 9 fraction digits).</summary>
    public static bool TryParseTimestamp(string text, out long seconds, out int nanos)
    {
        seconds = 0;
        nanos = 0;
        if (text.Length < 20 || text[10] != 'T' && text[10] != 't')
        {
            return false;
        }

        if (!DateTime.TryParseExact(text.AsSpan(0, 19), "yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            && !DateTime.TryParseExact(text.AsSpan(0, 19), "yyyy'-'MM'-'dd't'HH':'mm':'ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out time))
        {
            return false;
        }

        var rest = text.AsSpan(19);
        if (!TryParseFraction(ref rest, out nanos) || !TryParseOffset(rest, out var offsetSeconds))
        {
            return false;
        }

        seconds = ((time.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond) - offsetSeconds;
        return seconds is >= MinTimestampSeconds and <= MaxTimestampSeconds;
    }

    /// <summary>Parses a duration such as <c>1.5s</c> or <c>-0.000001s</c>.</summary>
    public static bool TryParseDuration(string text, out long seconds, out int nanos)
    {
        seconds = 0;
        nanos = 0;
        var span = text.AsSpan();
        if (span.Length < 2 || span[^1] != 's')
        {
            return false;
        }

        span = span[..^1];
        var negative = span[0] == '-';
        if (negative)
        {
            span = span[1..];
        }

        var dot = span.IndexOf('.');
        var whole = dot < 0 ? span : span[..dot];
        var fraction = dot < 0 ? [] : span[dot..];
        if (whole.IsEmpty || whole.ContainsAnyExceptInRange('0', '9')
            || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out seconds)
            || !TryParseFraction(ref fraction, out nanos) || !fraction.IsEmpty || seconds > MaxDurationSeconds)
        {
            return false;
        }

        if (negative)
        {
            seconds = -seconds;
            nanos = -nanos;
        }

        return true;
    }

    private static string Fraction(int nanos) =>
        nanos == 0 ? string.Empty
        : nanos % 1_000_000 == 0 ? "." + (nanos / 1_000_000).ToString("000", CultureInfo.InvariantCulture)
        : nanos % 1_000 == 0 ? "." + (nanos / 1_000).ToString("000000", CultureInfo.InvariantCulture)
        : "." + nanos.ToString("000000000", CultureInfo.InvariantCulture);

    /// <summary>Reads an optional <c>.digits</c> (1 to 9) from the start of <paramref name="text"/>.</summary>
    private static bool TryParseFraction(ref ReadOnlySpan<char> text, out int nanos)
    {
        nanos = 0;
        if (text.IsEmpty || text[0] != '.')
        {
            return true;
        }

        var digits = 0;
        while (digits + 1 < text.Length && char.IsAsciiDigit(text[digits + 1]))
        {
            digits++;
        }

        if (digits is 0 or > 9)
        {
            return false;
        }

        nanos = int.Parse(text.Slice(1, digits), NumberStyles.None, CultureInfo.InvariantCulture);
        for (var i = digits; i < 9; i++)
        {
            nanos *= 10;
        }

        text = text[(digits + 1)..];
        return true;
    }

    /// <summary>Reads <c>Z</c> or <c>±HH:MM</c>, which must be all that is left.</summary>
    private static bool TryParseOffset(ReadOnlySpan<char> text, out long offsetSeconds)
    {
        offsetSeconds = 0;
        if (text is "Z" or "z")
        {
            return true;
        }

        if (text.Length != 6 || text[0] is not ('+' or '-') || text[3] != ':'
            || !int.TryParse(text.Slice(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(text.Slice(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            || hours > 23 || minutes > 59)
        {
            return false;
        }

        offsetSeconds = (text[0] == '-' ? -1 : 1) * ((hours * 3600L) + (minutes * 60L));
        return true;
    }
}
