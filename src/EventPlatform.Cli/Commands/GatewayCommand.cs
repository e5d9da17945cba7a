using System.CommandLine;
using EventPlatform.Gateway;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>gateway</c>: the ingestion API alone, for production (one of many instances behind a
/// load balancer). Needs KAFKA_BOOTSTRAP_SERVERS and JWT_SECRET_KEY; listens on 127.0.0.1:8000
/// unless --Gateway:Urls=http://0.0.0.0:8000 says otherwise.
/// </summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var command = new Command("gateway", "Run the ingestion gateway alone (needs KAFKA_BOOTSTRAP_SERVERS, JWT_SECRET_KEY, SCHEMA_REGISTRY_URL and, for a secured registry, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO; " +
            "listens on http://127.0.0.1:8000, --Gateway:Urls=http://0.0.0.0:8000 for every interface).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = GatewayApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "gateway", ct).ConfigureAwait(false);
        });
        return command;
    }
}
