using System.CommandLine;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Topics;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>broker</c>: the embedded broker alone, with the topic plan applied. Run it in its own
/// process when services must be killed and restarted while Kafka keeps their data.
/// </summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var command = new Command("broker", "Run the embedded development Kafka broker alone (bootstrap 127.0.0.1:9092) with the platform's topics.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            var configuration = PlatformSettings.Load([.. parse.UnmatchedTokens]);
            using var cluster = EmbeddedBroker.Start(configuration);
            var provisioner = new EmbeddedTopicProvisioner(cluster);
            var plan = configuration.GetSection("Kafka:ReplicationFactor").Value is { } rf ? TopicPlan.Seed.WithReplicationFactor(short.Parse(rf, System.Globalization.CultureInfo.InvariantCulture)) : TopicPlan.Seed;
            foreach (var (topic, outcome) in await provisioner.ApplyAsync(plan, ct).ConfigureAwait(false))
            {
                Console.WriteLine($"  topic {topic.Name,-22} partitions {topic.Partitions,3}  replication {topic.ReplicationFactor}  {outcome}");
            }

            Console.WriteLine($"Embedded Kafka broker: bootstrap {cluster.BootstrapServers} ({cluster.BrokerCount} brokers at {cluster.BrokerBootstrapServers}).");
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
