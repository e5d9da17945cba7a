using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace EventPlatform.Streaming.Tests;

/// <summary>
/// Input and output of the count-per-minute test jobs on the embedded broker, shared by the runner,
/// scale-out and checkpoint-store tests: records are (partition, value, event time); "closer"
/// records move every partition's watermark past the last window and are not counted.
/// </summary>
public static class KafkaTestRecords
{
    public const string Closer = "closer";

    /// <summary>Writes <paramref name="records"/> to their partitions with their timestamps (idempotent producer), then flushes.</summary>
    public static async Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records, TimeSpan patience)
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
        await Task.Run(() => producer.Flush(patience));
    }

    /// <summary>The expected count per "key|window" of the records other than closers.</summary>
    public static Dictionary<string, long> Expected(IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        TestJobs.ExpectedCounts(records.Where(r => r.Value != Closer).Select(r => (r.Value, r.Timestamp)));

    /// <summary>The last count written per "key|window" (the closers' windows left out).</summary>
    public static Dictionary<string, long> LastPerKey(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        records.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!))
            .Where(g => !g.Key.StartsWith(Closer + "|", StringComparison.Ordinal))
            .ToDictionary(g => g.Key, g => long.Parse(Encoding.UTF8.GetString(g.Last().Message.Value), CultureInfo.InvariantCulture));
}
