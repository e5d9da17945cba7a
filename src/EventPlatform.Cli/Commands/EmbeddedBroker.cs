using EventPlatform.Kafka.Embedded;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Cli.Commands;

/// <summary>Starting the embedded broker from configuration (the <c>Embedded</c> section).</summary>
internal static class EmbeddedBroker
{
    public static EmbeddedKafkaCluster Start(IConfiguration configuration)
    {
        var options = new EmbeddedKafkaOptions();
        configuration.GetSection("Embedded").Bind(options);
        return EmbeddedKafkaCluster.Start(options);
    }

    public const string InMemoryWarning =
        "The embedded broker is a development broker (librdkafka's mock cluster): it keeps data in memory only, " +
        "at most about 5 MB or 100,000 batches per partition, and everything is lost when this process exits. " +
        "For production, set KAFKA_BOOTSTRAP_SERVERS to a Kafka cluster.";
}
