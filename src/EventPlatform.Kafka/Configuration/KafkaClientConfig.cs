using System.Globalization;
using Confluent.Kafka;

namespace EventPlatform.Kafka.Configuration;

/// <summary>
/// Builds librdkafka client configurations from <see cref="KafkaOptions"/>: the one place where
/// the seed's settings become client properties.
/// </summary>
public static class KafkaClientConfig
{
    public static ProducerConfig ForProducer(KafkaOptions options, string clientId, string bootstrapServers)
    {
        var p = options.Producer;
        var config = new ProducerConfig(Common(options, clientId, bootstrapServers))
        {
            Acks = ParseAcks(p.Acks),
            CompressionType = Enum.Parse<CompressionType>(p.CompressionType, ignoreCase: true),
            MaxInFlight = p.MaxInFlightRequestsPerConnection,
            EnableIdempotence = p.EnableIdempotence,
            LingerMs = p.LingerMs,
            BatchSize = p.BatchSize,
            MessageTimeoutMs = (int)p.MessageTimeout.TotalMilliseconds,
            Partitioner = ParsePartitioner(p.Partitioner),
            StatisticsIntervalMs = p.StatisticsIntervalMs,
            // Delivery reports carry only what the API returns: no copy of key and value back.
            DeliveryReportFields = "timestamp,status",
        };
        return config;
    }

    public static ConsumerConfig ForConsumer(KafkaOptions options, string clientId, string bootstrapServers, string groupId)
    {
        var c = options.Consumer;
        return new ConsumerConfig(Common(options, clientId, bootstrapServers))
        {
            GroupId = groupId,
            EnableAutoCommit = c.EnableAutoCommit,
            IsolationLevel = Enum.Parse<IsolationLevel>(c.IsolationLevel.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true),
            FetchMinBytes = c.FetchMinBytes,
            FetchWaitMaxMs = c.FetchWaitMaxMs,
            FetchQueueBackoffMs = c.FetchQueueBackoffMs,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
    }

    public static AdminClientConfig ForAdmin(KafkaOptions options, string clientId, string bootstrapServers) =>
        new(Common(options, clientId, bootstrapServers));

    private static ClientConfig Common(KafkaOptions options, string clientId, string bootstrapServers)
    {
        var config = new ClientConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = clientId,
            // Loopback and containers: prefer IPv4 so 'localhost' does not wait on ::1 first.
            BrokerAddressFamily = BrokerAddressFamily.V4,
            ReconnectBackoffMaxMs = (int)options.ReconnectBackoffMax.TotalMilliseconds,
            ReconnectBackoffMs = Math.Min(100, (int)options.ReconnectBackoffMax.TotalMilliseconds),
        };
        if (!string.IsNullOrWhiteSpace(options.SecurityProtocol))
        {
            config.SecurityProtocol = Enum.Parse<SecurityProtocol>(options.SecurityProtocol.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);
        }

        if (!string.IsNullOrWhiteSpace(options.SaslMechanism))
        {
            config.Set("sasl.mechanism", options.SaslMechanism);
        }

        if (!string.IsNullOrWhiteSpace(options.SaslUsername))
        {
            config.SaslUsername = options.SaslUsername;
            config.SaslPassword = options.SaslPassword;
        }

        foreach (var (key, value) in options.Extra)
        {
            config.Set(key, value);
        }

        return config;
    }

    private static Acks ParseAcks(string acks) => acks.Trim().ToLowerInvariant() switch
    {
        "all" or "-1" => Acks.All,
        "1" or "leader" => Acks.Leader,
        "0" or "none" => Acks.None,
        _ => throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"acks must be all, 1 or 0, not '{acks}'.")),
    };

    private static Partitioner ParsePartitioner(string name) => name.Trim().ToLowerInvariant() switch
    {
        "murmur2_random" => Partitioner.Murmur2Random,
        "murmur2" => Partitioner.Murmur2,
        "consistent_random" => Partitioner.ConsistentRandom,
        "consistent" => Partitioner.Consistent,
        "random" => Partitioner.Random,
        _ => throw new FormatException($"Unknown partitioner '{name}'."),
    };
}
