using EventPlatform.Streaming.Time;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>The consume loop's clock: one reading per refresh, whatever asks in between.</summary>
public sealed class LoopClockTests
{
    [Fact]
    public void Between_refreshes_every_reader_gets_the_last_reading()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var loop = new LoopClock(clock);
        var first = loop.GetTimestamp();
        var firstUtc = loop.GetUtcNow();

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(first, loop.GetTimestamp());
        Assert.Equal(firstUtc, loop.GetUtcNow());

        var refreshed = loop.Refresh();
        Assert.Equal(clock.GetTimestamp(), refreshed);
        Assert.Equal(TimeSpan.FromSeconds(5), loop.GetElapsedTime(first, loop.GetTimestamp()));
        Assert.Equal(firstUtc.AddSeconds(5), loop.GetUtcNow());
        Assert.Equal(clock.TimestampFrequency, loop.TimestampFrequency);
    }
}
