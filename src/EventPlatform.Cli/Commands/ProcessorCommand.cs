using System.CommandLine;
using EventPlatform.Processor.Service;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>processor</c>: the default stream-processing job alone, for production (scale-out by more
/// instances is not correct yet: one instance per job). Needs KAFKA_BOOTSTRAP_SERVERS and
/// SCHEMA_REGISTRY_URL (with SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO for a secured registry); serves
/// health and metrics on 127.0.0.1:8082 unless --Processor:Urls says otherwise.
/// </summary>
internal static class ProcessorCommand
{
    public static Command Create()
    {
        var command = new Command("processor", "Run the stream processor's default job alone: the event topics -> validity filter (invalid to events.dlq) -> enrichment -> windows -> events.aggregated " +
            "(needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL; health and /metrics on http://127.0.0.1:8082, --Processor:Urls=http://0.0.0.0:8082 for every interface).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = ProcessorApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "processor", ct).ConfigureAwait(false);
        });
        return command;
    }
}
