using Microsoft.Extensions.Options;

namespace EventPlatform.Monitoring.Tests;

/// <summary>A bad setting stops the monitor at start with a clear message, never at the first poll.</summary>
public sealed class MonitorOptionsTests
{
    [Theory]
    [InlineData("Monitor:PollInterval", "00:00:00", "PollInterval")]
    [InlineData("Monitor:RateWindow", "00:00:00", "RateWindow")]
    [InlineData("Monitor:ConsumerGroups:0", "", "empty group id")]
    [InlineData("Kafka:BootstrapServers", "", "KAFKA_BOOTSTRAP_SERVERS")]
    public async Task A_bad_setting_fails_at_start(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = "127.0.0.1:1",
            [key] = value,
        };
        await using var app = MonitorApp.Create([], settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
