using EventPlatform.Hosting.Lifetime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Cli.Commands;

/// <summary>Running a service's host to its end and turning how it ended into the command's exit code.</summary>
internal static class ServiceRun
{
    /// <summary>
    /// Starts <paramref name="app"/>, waits until it stops (Ctrl-C, SIGTERM, or a part failing for
    /// good) and returns the exit code: 0, <see cref="ExitCodes.StartFailed"/> when it did not start
    /// (the host has logged why; the reason is repeated on stderr), or the code of the failure that stopped it.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app, string name, CancellationToken cancellationToken)
    {
        if (await TryStartAsync(app, name, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return ExitCode(app);
    }

    /// <summary>Starts <paramref name="app"/>; returns null when it started, else the exit code.</summary>
    public static async Task<int?> TryStartAsync(WebApplication app, string name, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"The {name} did not start: {e.Message}").ConfigureAwait(false);
            return ExitCode(app) is var code and not ExitCodes.Ok ? code : ExitCodes.StartFailed;
        }
    }

    /// <summary>The code of the failure that stopped <paramref name="app"/>, else 0.</summary>
    public static int ExitCode(WebApplication app) => app.Services.GetService<ServiceFailure>()?.ExitCode ?? ExitCodes.Ok;
}
