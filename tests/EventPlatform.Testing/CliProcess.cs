using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using EventPlatform.Hosting.Configuration;

namespace EventPlatform.Testing;

/// <summary>
/// The platform's CLI (<c>eventplatform</c>) running as a child process: started with arguments and
/// environment, waited on until it prints a line or a URL answers, its output kept for failure
/// messages, and killed with its process tree when disposed (or with SIGKILL on purpose, <see cref="Kill"/>).
/// </summary>
/// <remarks>
/// The CLI is the built assembly named by the <c>EVENTPLATFORM_CLI</c> environment variable, else by
/// the <c>EventPlatformCli</c> assembly metadata of a loaded test assembly (see the Cli.Tests project).
/// The child gets a clean environment for the platform's own variables (none of the seed's variables
/// leak in from the test run), workstation GC (several children share two cores), and its own data
/// directory. Every child still running when the test process exits is killed. Thread-safe.
/// </remarks>
public sealed class CliProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, CliProcess> Running = new();
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<string> _stdout = [];
    private TaskCompletionSource _changed = NewSignal();

    static CliProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var child in Running.Values)
        {
            child.Kill();
        }
    };

    private CliProcess(string name, Process process, string dataDirectory)
    {
        Name = name;
        _process = process;
        DataDirectory = dataDirectory;
    }

    /// <summary>A name for messages (<c>broker</c>, <c>gateway#2</c>).</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>The child's data directory (<c>EVENTPLATFORM_DATA_DIR</c>, also its working directory); deleted on dispose.</summary>
    public string DataDirectory { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the child wrote so far (stdout and stderr, in arrival order).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>What the child wrote to stdout alone, line by line (log lines; with JSON logs, each one a JSON object).</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>The built CLI assembly.</summary>
    public static string CliPath
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("EVENTPLATFORM_CLI")
                ?? AppDomain.CurrentDomain.GetAssemblies()
                    .SelectMany(a => a.GetCustomAttributes<AssemblyMetadataAttribute>())
                    .FirstOrDefault(m => m.Key == "EventPlatformCli")?.Value;
            if (path is null || !File.Exists(path))
            {
                throw new InvalidOperationException($"The CLI assembly was not found at '{path}': build src/EventPlatform.Cli, or set EVENTPLATFORM_CLI.");
            }

            return path;
        }
    }

    /// <summary>Starts <c>eventplatform <paramref name="arguments"/></c> with <paramref name="environment"/> (a null value removes a variable).</summary>
    public static CliProcess Start(string name, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var dataDirectory = Directory.CreateTempSubdirectory("eventplatform-" + name + "-").FullName;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(CliPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var variable in SeedEnvironment.Map.Keys)
        {
            start.Environment.Remove(variable);
        }

        start.Environment["EVENTPLATFORM_DATA_DIR"] = dataDirectory;
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new CliProcess(name, process, dataDirectory);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, stdout: false);
        process.Exited += (_, _) => child.Signal();
        process.Start();
        Running[process.Id] = child;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnLine(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            if (stdout)
            {
                _stdout.Add(line);
            }
        }

        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Waits until the child has written a line that <paramref name="match"/> accepts; returns it.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>, or the child exited first; the message holds its output.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(match);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_lines.FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                changed = _changed.Task;
            }

            if (_process.HasExited)
            {
                // Exited fires before the redirected output is drained: wait for it, then look once more.
                await _process.WaitForExitAsync().ConfigureAwait(false);
                lock (_gate)
                {
                    if (_lines.FirstOrDefault(match) is { } last)
                    {
                        return last;
                    }
                }

                throw Failure($"exited (code {_process.ExitCode}) before writing the expected line");
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await Completes(changed, left).ConfigureAwait(false))
            {
                throw Failure($"did not write the expected line within {timeout.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>Waits until GET <paramref name="url"/> answers 2xx.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>, or the child exited first; the message holds its output.</exception>
    public async Task WaitForHealthyAsync(Uri url, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (true)
        {
            if (_process.HasExited)
            {
                throw Failure($"exited (code {_process.ExitCode}) before {url} answered ({last})");
            }

            try
            {
                using var response = await Probe.GetAsync(url).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw Failure($"did not answer 2xx at {url} within {timeout.TotalSeconds:0} s ({last})");
            }

            // Until the port is open there is nothing to wait on but the next attempt, or a line of output.
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            await Completes(changed, TimeSpan.FromMilliseconds(Math.Min(100, left.TotalMilliseconds))).ConfigureAwait(false);
        }
    }

    private static async Task<bool> Completes(Task task, TimeSpan within)
    {
        try
        {
            await task.WaitAsync(within).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Waits for the child to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw Failure($"did not exit within {timeout.TotalSeconds:0} s");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the child and its process tree at once (SIGKILL on Linux: no shutdown code runs).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    /// <summary>
    /// Freezes the child (SIGSTOP): its sockets stay open but nothing is answered, as a broker
    /// that hangs or a network that drops every packet. <see cref="Resume"/> lets it go on.
    /// </summary>
    public void Suspend() => SendSignal(SigStop);

    /// <summary>Lets a suspended child go on (SIGCONT): what it had received is processed then.</summary>
    public void Resume() => SendSignal(SigCont);

    /// <summary>
    /// Sends SIGCONT to each thread of the child in turn (tgkill), so its handler runs once on every
    /// thread, whichever of them a process-wide signal would have picked.
    /// </summary>
    public void ContinueEveryThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Signalling a child's threads needs Linux.");
        }

        foreach (var task in Directory.GetDirectories($"/proc/{_process.Id}/task"))
        {
            // A thread that ended since the listing is simply skipped.
            _ = NativeMethods.tgkill(_process.Id, int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture), SigCont);
        }
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    private void SendSignal(int signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Suspending a child needs Linux signals.");
        }

        if (NativeMethods.kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    private static class NativeMethods
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc is the system's own library; DllImport keeps this test helper short.
        internal static extern int kill(int pid, int sig);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        internal static extern int tgkill(int tgid, int tid, int sig);
#pragma warning restore CA5392, SYSLIB1054
    }

    /// <summary>An exception whose message holds the child's output, for a failed wait.</summary>
    public TimeoutException Failure(string what) =>
        new($"{Name} (pid {Id}) {what}. Its output:\n{Output}");

    /// <summary>Kills the child if it still runs, waits for it, and deletes its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Reported by the test that owns it; nothing more to do here.
        }

        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
