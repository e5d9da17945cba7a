using System.CommandLine;
using EventPlatform.Sink;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>sink</c>: the warehouse sink alone (the seed's Kafka Connect Snowflake sink, DuckDB for now).
/// Needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL; reads the seed's connector JSON from
/// --Sink:ConnectorConfigFile=... (or keys as --Sink:Connector:buffer.flush.time=60); health and
/// metrics on http://127.0.0.1:8084. Run more instances to share the partitions (one consumer group).
/// </summary>
internal static class SinkCommand
{
    public static Command Create()
    {
        var command = new Command("sink", "Run the warehouse sink alone: raw event topics into the 'events' table and events.aggregated into 'aggregated_events' of a DuckDB file under the data directory " +
            "(needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL; the seed's connector JSON with --Sink:ConnectorConfigFile=connector.json; health and metrics on http://127.0.0.1:8084, --Sink:Urls=... to move them).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = SinkApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "sink", ct).ConfigureAwait(false);
        });
        return command;
    }
}
