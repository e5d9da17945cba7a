using EventPlatform.Hosting.Configuration;
using FsCheck.Xunit;

namespace EventPlatform.Hosting.Tests;

/// <summary>The default connection limits follow the process's open-file limit.</summary>
public sealed class ConnectionLimitsTests
{
    private const string Limits = """
        Limit                     Soft Limit           Hard Limit           Units
        Max cpu time              unlimited            unlimited            seconds
        Max open files            20000                524288               files
        Max locked memory         8388608              8388608              bytes
        """;

    [Fact]
    public void The_soft_open_file_limit_is_read_from_proc_limits()
    {
        Assert.Equal(20_000, ConnectionLimits.ParseOpenFileLimit(Limits));
        Assert.Null(ConnectionLimits.ParseOpenFileLimit(Limits.Replace("20000", "unlimited", StringComparison.Ordinal)));
        Assert.Null(ConnectionLimits.ParseOpenFileLimit("Max cpu time unlimited"));
        Assert.True(ConnectionLimits.OpenFileLimit() > 0);
    }

    [Property(MaxTest = 200)]
    public bool Any_text_parses_without_throwing(string? text)
    {
        var limit = ConnectionLimits.ParseOpenFileLimit(text ?? "");
        return limit is null or > 0;
    }

    [Theory]
    [InlineData(20_000, ConnectionLimits.GatewayShare, 8_000)]
    [InlineData(20_000, ConnectionLimits.ServiceShare, 1_000)]
    [InlineData(1_024, ConnectionLimits.ServiceShare, ConnectionLimits.Floor)]
    public void A_default_is_a_share_of_the_limit_with_a_floor(long openFiles, double share, long expected) =>
        Assert.Equal(expected, ConnectionLimits.DefaultFor(openFiles, share));

    [Fact]
    public void The_shares_of_the_services_of_one_process_leave_room_for_the_rest()
    {
        // up: a gateway and four small services, each allowed a quarter more in WebSockets.
        var shares = (ConnectionLimits.GatewayShare + (4 * ConnectionLimits.ServiceShare)) * 1.25;
        Assert.True(shares <= 0.8, $"{shares:P0} of the open files would go to listeners");
    }
}
