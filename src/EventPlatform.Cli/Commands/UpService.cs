using Microsoft.AspNetCore.Builder;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// One part of the platform as <c>up</c> runs it: its name, whether it runs here, how it starts
/// (returning once it is ready), and what the summary says about it. <c>up</c> starts, summarizes
/// and stops its parts by walking one list of these (<see cref="UpCommand"/>): adding a service is
/// adding an entry.
/// </summary>
internal sealed class UpService
{
    /// <summary>How messages name it ("The {Name} did not start").</summary>
    public required string Name { get; init; }

    /// <summary>False when an external one is used instead (it is still summarized, with its address).</summary>
    public Func<UpPlatform, bool> RunsHere { get; init; } = _ => true;

    /// <summary>Whether <c>--Up:Without</c> may leave it out (nothing else in <c>up</c> needs it).</summary>
    public bool Optional { get; init; }

    /// <summary>The names of the parts that must be ready before this one starts.</summary>
    public IReadOnlyList<string> StartsAfter { get; init; } = [];

    /// <summary>Creates and starts it, returning once it is ready (see <see cref="RunningPart"/>).</summary>
    public required Func<UpPlatform, CancellationToken, Task<RunningPart>> StartAsync { get; init; }

    /// <summary>Its lines in the summary printed once everything is ready.</summary>
    /// <remarks>Given its running part (null when it does not run here).</remarks>
    public required Func<UpPlatform, RunningPart?, UpSummary> Summarize { get; init; }

    /// <summary>
    /// Starting for a part that is a host (web or worker): ready once the host has started, that is
    /// listening, with its hosted services (topic provisioning, state topics read to their end) done starting.
    /// </summary>
    public static Func<UpPlatform, CancellationToken, Task<RunningPart>> Host(string name, Func<UpPlatform, WebApplication> create) =>
        async (platform, cancellationToken) =>
        {
            var host = create(platform);
            var failed = await ServiceRun.TryStartAsync(host, name, cancellationToken).ConfigureAwait(false);
            return new RunningPart(host, resource: null) { StartFailure = failed };
        };

    /// <summary>The order to start <paramref name="services"/> in: the list's, except that a part comes after those it <see cref="StartsAfter"/>.</summary>
    public static List<UpService> InStartOrder(IReadOnlyList<UpService> services)
    {
        var ordered = new List<UpService>(services.Count);
        foreach (var service in services)
        {
            Visit(service, []);
        }

        return ordered;

        void Visit(UpService service, HashSet<string> visiting)
        {
            if (ordered.Contains(service))
            {
                return;
            }

            if (!visiting.Add(service.Name))
            {
                throw new InvalidOperationException($"The services of 'up' depend on each other in a cycle through the {service.Name}.");
            }

            foreach (var name in service.StartsAfter)
            {
                Visit(services.Single(s => s.Name == name), visiting);
            }

            ordered.Add(service);
        }
    }
}

/// <summary>
/// What the summary says about one part, by section: the sections are printed in this order, each
/// with every part's lines in the list's order.
/// </summary>
/// <param name="Where">Its address line(s).</param>
/// <param name="Use">How to use it (endpoints, topics).</param>
/// <param name="Access">Credentials a user needs for it, each block ending with an empty line.</param>
/// <param name="Notes">Warnings, each ending with an empty line.</param>
internal sealed record UpSummary(IReadOnlyList<string> Where, IReadOnlyList<string>? Use = null, IReadOnlyList<string>? Access = null, IReadOnlyList<string>? Notes = null);

/// <summary>A part that <c>up</c> started (or tried to): its host, if it is one, and what else it holds.</summary>
internal sealed class RunningPart(WebApplication? host, IDisposable? resource) : IAsyncDisposable
{
    /// <summary>The part's host; null for a part that is not one (the embedded broker).</summary>
    public WebApplication? Host => host;

    /// <summary>The exit code when it did not start; null when it is ready.</summary>
    public int? StartFailure { get; init; }

    /// <summary>The code of the failure that stopped it, else 0.</summary>
    public int ExitCode => host is null ? 0 : ServiceRun.ExitCode(host);

    /// <summary>Stops its host (draining requests, flushing producers); what it holds stays until <see cref="DisposeAsync"/>.</summary>
    public Task StopAsync() => host?.StopAsync(CancellationToken.None) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }

        resource?.Dispose();
    }
}
