using System.Text;
using EventPlatform.Core.Events;
using FsCheck;
using FsCheck.Xunit;

namespace EventPlatform.Core.Tests;

/// <summary>The acceptance header is written by the gateway but readable by anyone who can produce: it must round-trip and refuse everything else.</summary>
public class AcceptedAtHeaderProperties
{
    [Property(MaxTest = 300)]
    public void Every_time_since_1970_round_trips_to_the_millisecond(NonNegativeInt seconds, NonNegativeInt millis)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(((long)seconds.Get * 1000 * 37) + (millis.Get % 1000));
        Assert.True(AcceptedAtHeader.TryParse(AcceptedAtHeader.Format(at), out var back));
        Assert.Equal(at, back);
    }

    [Property(MaxTest = 500)]
    public void Random_bytes_never_throw_and_are_accepted_only_as_1_to_15_digits(byte[] value)
    {
        var accepted = AcceptedAtHeader.TryParse(value, out var at);
        var digits = value.Length is > 0 and <= 15 && value.All(b => b is >= (byte)'0' and <= (byte)'9');
        Assert.Equal(digits && long.Parse(Encoding.ASCII.GetString(value), System.Globalization.CultureInfo.InvariantCulture) <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(), accepted);
        if (accepted)
        {
            Assert.Equal(Encoding.ASCII.GetString(value).TrimStart('0').PadLeft(1, '0'), at.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData(" 12")]
    [InlineData("9999999999999999")]
    [InlineData("999999999999999")] // 15 digits, past DateTimeOffset.MaxValue
    [InlineData("١٢٣")] // Arabic-Indic digits are not ASCII digits
    public void Hostile_values_are_refused(string value) =>
        Assert.False(AcceptedAtHeader.TryParse(Encoding.UTF8.GetBytes(value), out _));
}
