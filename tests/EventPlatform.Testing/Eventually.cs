namespace EventPlatform.Testing;

/// <summary>Waiting in tests for something another thread brings about.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="within"/> (10 s by default); the message is <paramref name="what"/>.</exception>
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan? within = null, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = within ?? TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(what ?? $"the condition did not hold within {limit.TotalSeconds:0} s");
            }

            await Task.Delay(20);
        }
    }
}
