using System.Buffers.Text;

namespace EventPlatform.Core.Events;

/// <summary>
/// The Kafka record header in which the gateway writes when it accepted an event: Unix
/// milliseconds as ASCII digits (readable with <c>kcat -f '%h'</c>). The record's own timestamp is
/// the event's time, so without this header nothing downstream knows how long the platform took.
/// </summary>
/// <remarks>
/// Anyone who can produce to the topic can write this header: readers parse it with
/// <see cref="TryParse"/>, which accepts 1-15 digits and nothing else, and fall back to the record
/// timestamp when it is absent or malformed.
/// </remarks>
public static class AcceptedAtHeader
{
    /// <summary>The header's name.</summary>
    public const string Name = "eventplatform-accepted-at";

    // 15 digits reach the year 33658: more than any clock gives, few enough never to overflow.
    private const int MaxDigits = 15;

    /// <summary>The header's value for <paramref name="acceptedAt"/>.</summary>
    public static byte[] Format(DateTimeOffset acceptedAt)
    {
        var ms = Math.Max(0, acceptedAt.ToUnixTimeMilliseconds());
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(ms, digits, out var written);
        return digits[..written].ToArray();
    }

    /// <summary>Reads a value written by <see cref="Format"/>; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out DateTimeOffset acceptedAt)
    {
        acceptedAt = default;
        if (value.Length is 0 or > MaxDigits)
        {
            return false;
        }

        long ms = 0;
        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            ms = (ms * 10) + (b - '0');
        }

        if (ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        acceptedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }
}
