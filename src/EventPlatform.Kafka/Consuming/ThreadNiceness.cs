using System.Runtime.InteropServices;

namespace EventPlatform.Kafka.Consuming;

/// <summary>
/// Lowers the calling thread's scheduling priority (its nice value, 0 to 19) on Linux. .NET's
/// <see cref="Thread.Priority"/> does nothing there, but Linux schedules each thread on its own and
/// any process may lower the priority of its own threads. Used by <c>up</c> so that the stream
/// processor and the sink, sharing a machine with the gateway, take the CPU the gateway leaves:
/// events wait in Kafka (which is what it is for) rather than requests at the front door.
/// </summary>
public static partial class ThreadNiceness
{
    /// <summary>The highest nice value (the lowest priority) Linux allows.</summary>
    public const int Lowest = 19;

    /// <summary>
    /// Sets the calling thread's nice value to <paramref name="niceness"/> (0 leaves it as it is).
    /// Returns false where that is not possible (not Linux, or refused); the thread then runs as before.
    /// </summary>
    public static bool LowerCurrentThread(int niceness)
    {
        ThrowIfOutOfRange(niceness);
        if (niceness == 0)
        {
            return true;
        }
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        // PRIO_PROCESS with a thread id addresses that thread alone on Linux (setpriority(2), BUGS).
        return setpriority(PrioProcess, (uint)gettid(), niceness) == 0;
    }

    /// <summary>Throws unless <paramref name="niceness"/> is a nice value this class takes (0 to <see cref="Lowest"/>).</summary>
    public static void ThrowIfOutOfRange(int niceness, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(niceness))] string? paramName = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(niceness, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(niceness, Lowest, paramName);
    }

    private const int PrioProcess = 0;

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc")]
    private static partial int setpriority(int which, uint who, int prio);
}
