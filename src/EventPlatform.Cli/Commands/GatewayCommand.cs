using System.CommandLine;
using EventPlatform.Gateway;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>gateway</c>: the ingestion API alone, for production (one of many instances behind a
/// load balancer). Needs KAFKA_BOOTSTRAP_SERVERS and JWT_SECRET_KEY; listens on 0.0.0.0:8000.
/// </summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var command = new Command("gateway", "Run the ingestion gateway alone (needs KAFKA_BOOTSTRAP_SERVERS and JWT_SECRET_KEY; listens on http://0.0.0.0:8000).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = GatewayApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "gateway", ct).ConfigureAwait(false);
        });
        return command;
    }
}
