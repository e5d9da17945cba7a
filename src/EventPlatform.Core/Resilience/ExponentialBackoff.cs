namespace EventPlatform.Core.Resilience;

/// <summary>
/// The seed's retry delay: <c>min(base * 2^attempt, max)</c> plus a jitter drawn uniformly from
/// <c>[0, 10%]</c> of that delay. Attempts count from 0 (the delay before the first retry).
/// </summary>
public sealed record ExponentialBackoff(TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>The seed's values: base 1 s, max 60 s.</summary>
    public static ExponentialBackoff Seed { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

    /// <summary>The delay without jitter for <paramref name="attempt"/>.</summary>
    public TimeSpan NominalDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        var seconds = Math.Min(BaseDelay.TotalSeconds * Math.Pow(2, Math.Min(attempt, 62)), MaxDelay.TotalSeconds);
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The delay with jitter; <paramref name="unitRandom"/> is a draw from [0, 1).</summary>
    public TimeSpan Delay(int attempt, double unitRandom)
    {
        var nominal = NominalDelay(attempt);
        return nominal + (nominal * (0.1 * unitRandom));
    }

    /// <summary>The delay with jitter from the shared random source.</summary>
    public TimeSpan Delay(int attempt) => Delay(attempt, Random.Shared.NextDouble());
}
