namespace EventPlatform.Hosting.Health;

/// <summary>When this service started, for <c>uptime_seconds</c>.</summary>
public sealed class ServiceUptime(TimeProvider time)
{
    private readonly long _started = time.GetTimestamp();

    public TimeSpan Elapsed => time.GetElapsedTime(_started);
}
