using System.Runtime.InteropServices;

namespace EventPlatform.Cli;

/// <summary>
/// Runtime settings that only the environment can give: a long-running service re-executes itself
/// once, in place (the same process id, so signals, <c>kill -9</c> and supervisors see one process),
/// with them set.
/// </summary>
/// <remarks>
/// <para>
/// <c>DOTNET_TC_CallCountingDelayMs=0</c>. The runtime starts counting calls towards optimizing a
/// method only after 100 ms in which no method was compiled for the first time. A service keeps
/// meeting new code for seconds after it starts (a processor's catch-up fires its first windows,
/// checkpoints, statistics), so its hot path ran unoptimized, unprofiled code all that time: the
/// processor's first half of a 1,000,000-event catch-up cost about three times the CPU per event of its
/// second half (README, processor). The runtime reads this setting from the environment only
/// (it is not a runtimeconfig.json knob), hence the re-execution.
/// </para>
/// <para>
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, for <c>up</c> and <c>gateway</c>: a socket
/// operation completes on the thread that polled it rather than on the thread pool. The gateway's
/// requests already continue on the thread that completed their socket read (Kestrel's
/// <c>UnsafePreferInlineScheduling</c>, <c>Gateway:InlineScheduling</c>); in <c>up</c>, the thread pool is
/// shared with four other services, and that hop queued every request behind their work. Paired runs
/// of the whole <c>up</c> under compare.sh's load served 16-57 % more in four of five pairs (README,
/// performance, tenth round); the gateway alone served the same. Nothing on the gateway's request path
/// blocks (its Kafka reads run on threads of their own).
/// </para>
/// <para>
/// A value already in the environment is kept (<c>DOTNET_TC_CallCountingDelayMs=100</c> restores the
/// runtime's default, <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> the thread pool's
/// completions); on a platform without <c>execve</c>, or if it fails, the service runs as it is.
/// </para>
/// </remarks>
internal static partial class ServiceRuntime
{
    public const string TieringDelayVariable = "DOTNET_TC_CallCountingDelayMs";

    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>The commands that run until stopped: worth the ~0.1 s a second runtime start costs.</summary>
    private static readonly HashSet<string> Services = new(StringComparer.Ordinal) { "up", "gateway", "registry", "processor", "sink", "monitor", "broker" };

    /// <summary>The commands that serve the gateway's requests.</summary>
    private static readonly HashSet<string> Gateways = new(StringComparer.Ordinal) { "up", "gateway" };

    /// <summary>The settings for <paramref name="command"/>: variable and value.</summary>
    private static IEnumerable<(string Variable, string Value)> SettingsFor(string command) =>
        Gateways.Contains(command) ? [(TieringDelayVariable, "0"), (InlineCompletionsVariable, "1")] : [(TieringDelayVariable, "0")];

    /// <summary>Re-executes the process with the settings when <paramref name="args"/> start a service and they are not set; returns only when it does not.</summary>
    public static void Tune(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args.Length == 0 || !Services.Contains(args[0])
            || Environment.ProcessPath is not { } executable)
        {
            return;
        }

        // Only what is missing; nothing missing (the user's values, or this process re-executed already): run as is.
        var missing = SettingsFor(args[0]).Where(s => Environment.GetEnvironmentVariable(s.Variable) is null).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        string[] argv;
        try
        {
            // The exact command line this process was started with (dotnet, the dll, the arguments; or the apphost).
            argv = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.None)[..^1];
        }
        catch (IOException)
        {
            return;
        }

        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environment.Add($"{variable.Key}={variable.Value}");
        }
        environment.AddRange(missing.Select(s => $"{s.Variable}={s.Value}"));
        Execute(executable, argv, environment);
    }

    private static void Execute(string executable, string[] argv, List<string> environment)
    {
        var strings = new List<IntPtr>();
        try
        {
            var argvPointers = Pointers(argv, strings);
            var environmentPointers = Pointers(environment, strings);
            // Returns only on failure; on success this process image is replaced.
            _ = execve(executable, argvPointers, environmentPointers);
        }
        finally
        {
            foreach (var pointer in strings)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    // A NULL-terminated array of UTF-8 C strings; the strings are recorded for freeing.
    private static IntPtr[] Pointers(IReadOnlyList<string> values, List<IntPtr> strings)
    {
        var pointers = new IntPtr[values.Count + 1];
        for (var i = 0; i < values.Count; i++)
        {
            pointers[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            strings.Add(pointers[i]);
        }
        return pointers;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int execve(string path, IntPtr[] argv, IntPtr[] envp);
}
