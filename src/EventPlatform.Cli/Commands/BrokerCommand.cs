using System.CommandLine;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Topics;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>broker</c>: the embedded broker alone, with the topic plan applied. Run it in its own
/// process when services must be killed and restarted while Kafka keeps their data.
/// </summary>
/// <remarks>
/// Services reaching it from other processes see a plain Kafka cluster without CreateTopics
/// (the production path): they make their internal topics by auto-creation. The line
/// <c>KAFKA_BOOTSTRAP_SERVERS=host:port</c> is printed once the broker takes connections, for
/// scripts and tests that start it on a free port (<c>--port 0</c>).
/// </remarks>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var port = new Option<int?>("--port") { Description = "The bootstrap port on 127.0.0.1 (default 9092; 0 picks a free one). Same as --Embedded:BootstrapPort." };
        var command = new Command("broker", "Run the embedded development Kafka broker alone (bootstrap 127.0.0.1:9092) with the platform's topics; prints KAFKA_BOOTSTRAP_SERVERS=... when ready.") { port };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            string[] args = parse.GetValue(port) is { } p
                ? [.. parse.UnmatchedTokens, "--Embedded:BootstrapPort=" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)]
                : [.. parse.UnmatchedTokens];
            var configuration = PlatformSettings.Load(args);
            using var cluster = EmbeddedBroker.Start(configuration);
            var provisioner = new EmbeddedTopicProvisioner(cluster);
            var plan = configuration.GetSection("Kafka:ReplicationFactor").Value is { } rf ? TopicPlan.Seed.WithReplicationFactor(short.Parse(rf, System.Globalization.CultureInfo.InvariantCulture)) : TopicPlan.Seed;
            foreach (var (topic, outcome) in await provisioner.ApplyAsync(plan, ct).ConfigureAwait(false))
            {
                Console.WriteLine($"  topic {topic.Name,-22} partitions {topic.Partitions,3}  replication {topic.ReplicationFactor}  {outcome}");
            }

            Console.WriteLine($"Embedded Kafka broker: bootstrap {cluster.BootstrapServers} ({cluster.BrokerCount} brokers at {cluster.BrokerBootstrapServers}).");
            Console.WriteLine("It has no CreateTopics: services started against it create their internal topics by auto-creation (4 partitions each).");
            Console.WriteLine($"KAFKA_BOOTSTRAP_SERVERS={cluster.BootstrapServers}");
            Console.WriteLine("NOTE: " + EmbeddedBroker.InMemoryWarning);
            Console.WriteLine("Press Ctrl-C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Broker stopped.");
            }

            return 0;
        });
        return command;
    }
}
