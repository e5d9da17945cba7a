using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The <c>format</c> values we assert (the others are annotations, as the drafts allow).
/// Date and time follow RFC 3339.
/// </summary>
internal static class StringFormats
{
    /// <summary>Whether a string has the format.</summary>
    public delegate bool Check(ReadOnlySpan<char> value);

    /// <summary>The check for a format name, or null when the format is not asserted.</summary>
    public static Check? For(string format) => format switch
    {
        "date-time" => IsDateTime,
        "date" => IsDate,
        "time" => IsTime,
        "email" => IsEmail,
        "uuid" => IsUuid,
        "uri" => IsUri,
        "ipv4" => IsIPv4,
        "ipv6" => IsIPv6,
        "hostname" => IsHostname,
        _ => null,
    };

    public static bool IsDateTime(ReadOnlySpan<char> value)
    {
        // full-date "T" full-time
        return value.Length > 11 && value[10] is 'T' or 't' && IsDate(value[..10]) && IsTime(value[11..]);
    }

    public static bool IsDate(ReadOnlySpan<char> value) =>
        value.Length == 10 && value[4] == '-' && value[7] == '-'
        && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    public static bool IsTime(ReadOnlySpan<char> value)
    {
        // HH:mm:ss[.fraction](Z|+hh:mm|-hh:mm); second 60 is a leap second.
        if (value.Length < 9 || value[2] != ':' || value[5] != ':'
            || !TwoDigits(value, 0, 23) || !TwoDigits(value, 3, 59) || !TwoDigits(value, 6, 60))
        {
            return false;
        }

        var i = 8;
        if (i < value.Length && value[i] == '.')
        {
            var start = ++i;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        var offset = value[i..];
        if (offset.Length == 1)
        {
            return offset[0] is 'Z' or 'z';
        }

        return offset.Length == 6 && offset[0] is '+' or '-' && offset[3] == ':'
            && TwoDigits(offset, 1, 23) && TwoDigits(offset, 4, 59);
    }

    public static bool IsEmail(ReadOnlySpan<char> value)
    {
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1 || value.IndexOf('@') != at)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        var domain = value[(at + 1)..];
        return domain[0] != '.' && domain[^1] != '.' && !domain.Contains("..", StringComparison.Ordinal);
    }

    public static bool IsUuid(ReadOnlySpan<char> value) => value.Length == 36 && Guid.TryParseExact(value, "D", out _);

    public static bool IsUri(ReadOnlySpan<char> value)
    {
        // An absolute URI: a scheme, then anything Uri accepts.
        var colon = value.IndexOf(':');
        if (colon < 1 || !char.IsAsciiLetter(value[0]))
        {
            return false;
        }

        foreach (var c in value[..colon])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '+' and not '-' and not '.')
            {
                return false;
            }
        }

        return Uri.TryCreate(value.ToString(), UriKind.Absolute, out _);
    }

    public static bool IsIPv4(ReadOnlySpan<char> value)
    {
        var parts = 0;
        foreach (var range in value.Split('.'))
        {
            var part = value[range];
            if (part.Length is 0 or > 3 || part.Length > 1 && part[0] == '0'
                || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 255)
            {
                return false;
            }

            parts++;
        }

        return parts == 4;
    }

    public static bool IsIPv6(ReadOnlySpan<char> value) =>
        value.IndexOf(':') >= 0 && value.IndexOf('%') < 0
        && IPAddress.TryParse(value, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;

    public static bool IsHostname(ReadOnlySpan<char> value)
    {
        if (value.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var range in value.Split('.'))
        {
            var label = value[range];
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool TwoDigits(ReadOnlySpan<char> value, int at, int max) =>
        char.IsAsciiDigit(value[at]) && char.IsAsciiDigit(value[at + 1])
        && (value[at] - '0') * 10 + (value[at + 1] - '0') <= max;
}
