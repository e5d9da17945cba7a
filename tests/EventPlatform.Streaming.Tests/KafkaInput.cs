using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace EventPlatform.Streaming.Tests;

/// <summary>Writes test input to the embedded broker and waits on conditions.</summary>
public static class KafkaInput
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            EnableIdempotence = true,
        }).Build();
        foreach (var (partition, value, timestamp) in records)
        {
            producer.Produce(new TopicPartition(topic, partition), new Message<byte[]?, byte[]>
            {
                Value = Encoding.UTF8.GetBytes(value),
                Timestamp = new Timestamp(timestamp, TimestampType.CreateTime),
            });
        }
        await Task.Run(() => producer.Flush(Patience));
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Waited in vain for " + what);
            }
            await Task.Delay(20);
        }
    }

    /// <summary>The last value per key, as an upserting consumer would keep it.</summary>
    public static Dictionary<string, long> LastPerKey(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        records.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!))
            .ToDictionary(g => g.Key, g => long.Parse(Encoding.UTF8.GetString(g.Last().Message.Value), CultureInfo.InvariantCulture));
}
