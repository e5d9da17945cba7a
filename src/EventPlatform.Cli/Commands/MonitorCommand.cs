using System.CommandLine;
using EventPlatform.Monitoring;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>monitor</c>: the Kafka exporter alone (the role kafka_exporter or Burrow plays beside a
/// cluster): consumer lag in messages and seconds, topic offsets, throughput and DLQ depth on
/// http://127.0.0.1:9308/metrics. Needs KAFKA_BOOTSTRAP_SERVERS.
/// </summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var command = new Command("monitor", "Run the Kafka exporter (consumer lag in messages and seconds, offsets, throughput, DLQ depth) on http://127.0.0.1:9308/metrics " +
            "(needs KAFKA_BOOTSTRAP_SERVERS; --Monitor:ConsumerGroups:0=<group> names groups to report where the cluster cannot list them; --Monitor:Urls=http://0.0.0.0:9308 for every interface).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            await using var app = MonitorApp.Create([.. parse.UnmatchedTokens]);
            return await ServiceRun.RunAsync(app, "monitor", ct).ConfigureAwait(false);
        });
        return command;
    }
}
