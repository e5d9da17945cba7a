namespace EventPlatform.Kafka.Embedded;

/// <summary>How to start the embedded development broker.</summary>
public sealed class EmbeddedKafkaOptions
{
    /// <summary>Number of brokers (ids 1..N). The seed's topics have replication factor 3.</summary>
    public int BrokerCount { get; set; } = 3;

    /// <summary>
    /// Port of the stable bootstrap address on 127.0.0.1 (the seed's 9092); 0 picks a free port,
    /// null offers none (clients then use <see cref="EmbeddedKafkaCluster.BrokerBootstrapServers"/>).
    /// </summary>
    public int? BootstrapPort { get; set; } = 9092;

    /// <summary>
    /// How long a consumer group waits for more members before its first rebalance. Kafka's
    /// default is 3 s; tests lower it.
    /// </summary>
    public TimeSpan GroupInitialRebalanceDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Connections the bootstrap address relays at once (each holds two file descriptors); past it a
    /// new one is closed as soon as it is accepted. Clients only bootstrap there, so few are open at a
    /// time; the bound keeps a flood of idle connections from taking every file descriptor of the
    /// process the broker's data lives in.
    /// </summary>
    public int MaxBootstrapConnections { get; set; } = 1_000;

    /// <summary>librdkafka log level for the broker's own messages (syslog levels: 3 errors, 7 debug).</summary>
    public int LogLevel { get; set; } = 3;
}
