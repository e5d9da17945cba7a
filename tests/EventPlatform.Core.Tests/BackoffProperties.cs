using EventPlatform.Core.Resilience;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Core.Tests;

public class BackoffProperties
{
    // Feature: kafka-event-streaming-platform, Property 16: Retry exponential backoff
    // For any failed operation, retry attempts should occur with exponentially increasing delays
    // between attempts (the seed's formula: min(base * 2^attempt, max) plus 0-10% jitter).
    [Property(MaxTest = 200)]
    public void Property_16_delays_grow_exponentially_up_to_the_cap(PositiveInt baseMs, PositiveInt capFactor, NonNegativeInt attemptSeed, float unit)
    {
        var baseDelay = TimeSpan.FromMilliseconds(baseMs.Get % 5000);
        var maxDelay = baseDelay * (1 + (capFactor.Get % 100));
        var backoff = new ExponentialBackoff(baseDelay, maxDelay);
        var attempt = attemptSeed.Get % 40;
        var u = float.IsFinite(unit) ? Math.Abs(unit) % 1f : 0.5f;

        var nominal = backoff.NominalDelay(attempt);
        var expectedMs = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, attempt), maxDelay.TotalMilliseconds);
        Assert.Equal(expectedMs, nominal.TotalMilliseconds, 3);
        Assert.True(backoff.NominalDelay(attempt + 1) >= nominal);

        var delay = backoff.Delay(attempt, u);
        Assert.InRange(delay.TotalMilliseconds, nominal.TotalMilliseconds - 0.001, (nominal.TotalMilliseconds * 1.1) + 0.001);
    }

    [Fact]
    public void The_seed_values_give_one_two_four_seconds()
    {
        var seed = ExponentialBackoff.Seed;
        Assert.Equal([1d, 2d, 4d, 60d], new[] { 0, 1, 2, 10 }.Select(a => seed.NominalDelay(a).TotalSeconds));
    }
}
