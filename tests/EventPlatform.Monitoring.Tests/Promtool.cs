using System.Diagnostics;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests;

/// <summary>Prometheus' own checker (Debian package <c>prometheus</c>), run as a process.</summary>
internal static class Promtool
{
    /// <summary>Set to 1 where a missing promtool must fail the tests (<c>.ci/run</c> installs it), not skip them.</summary>
    public const string RequireVariable = "EVENTPLATFORM_REQUIRE_PROMTOOL";

    /// <summary>promtool's path on PATH, or null.</summary>
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "promtool"))
        .FirstOrDefault(File.Exists);

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static string NotInstalledReason => $"promtool is not installed (apt-get install prometheus); set {RequireVariable}=1 to fail instead of skipping.";

    /// <summary>The repository's root (where EventPlatform.slnx is), found from the test's directory.</summary>
    public static string RepositoryRoot => Repository.Root;

    public static async Task<(int ExitCode, string Output)> RunAsync(string promtool, IEnumerable<string> arguments, string? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(promtool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>
/// A test that needs promtool: skipped with the reason when it is not installed, unless
/// <c>EVENTPLATFORM_REQUIRE_PROMTOOL=1</c>, where it runs and fails on the missing tool.
/// </summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (Promtool.Path is null && !Promtool.Required)
        {
            Skip = Promtool.NotInstalledReason;
        }
    }
}
