namespace EventPlatform.Hosting.Lifetime;

/// <summary>The exit codes of the platform's service commands.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The service did not start: a bad setting, Kafka not reachable, a topic that cannot be made to exist.</summary>
    public const int StartFailed = 1;

    /// <summary>
    /// A part the service cannot run without failed for good while it ran (sysexits' EX_UNAVAILABLE):
    /// a state topic that can no longer be read. A supervisor should restart it once the cause is fixed.
    /// </summary>
    public const int DependencyFailed = 69;
}
