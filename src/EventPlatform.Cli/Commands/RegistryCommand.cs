using System.CommandLine;
using EventPlatform.SchemaRegistry;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>registry</c>: the Confluent-compatible schema registry alone, for production (run several
/// for availability: they share their state through the Kafka topic). Needs
/// KAFKA_BOOTSTRAP_SERVERS and users (Registry:Auth:Users, a users file, or JWT_SECRET_KEY);
/// listens on 127.0.0.1:8081 unless --Registry:Urls=http://0.0.0.0:8081 says otherwise.
/// </summary>
internal static class RegistryCommand
{
    public static Command Create()
    {
        var command = new Command("registry", "Run the schema registry alone (Confluent Schema Registry REST API; needs KAFKA_BOOTSTRAP_SERVERS and users: --Registry:Auth:Users:<name>:Password=... --Registry:Auth:Users:<name>:Scopes=schemas:admin, or JWT_SECRET_KEY; " +
            "listens on http://127.0.0.1:8081, --Registry:Urls=http://0.0.0.0:8081 for every interface).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = RegistryApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "schema registry", ct).ConfigureAwait(false);
        });
        return command;
    }
}
