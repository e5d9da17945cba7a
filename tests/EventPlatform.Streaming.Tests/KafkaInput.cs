using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace EventPlatform.Streaming.Tests;

/// <summary>Writes test input to the embedded broker and waits on conditions.</summary>
public static class KafkaInput
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.ProduceAsync(bootstrapServers, topic, records, Patience);

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
