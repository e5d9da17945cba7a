using System.Net;
using Confluent.Kafka;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests;

/// <summary>One embedded broker for the exporter's integration tests; each test has its own topics and groups.</summary>
[CollectionDefinition(Name)]
public sealed class MonitorCollection : ICollectionFixture<EmbeddedKafkaFixture>
{
    public const string Name = "monitor";
}

/// <summary>Writing and committing on a cluster the way the platform's services would, and reading an exporter's /metrics.</summary>
internal static class ClusterActions
{
    /// <summary>Writes <paramref name="count"/> records to one partition, record i with timestamp <paramref name="firstTimestamp"/> + i seconds.</summary>
    public static async Task ProduceAsync(string bootstrap, string topic, int partition, int count, DateTimeOffset firstTimestamp)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 0 })
            .SetLogHandler((_, _) => { })
            .Build();
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<byte[]?, byte[]>
            {
                Value = [(byte)i],
                Timestamp = new Timestamp(firstTimestamp.AddSeconds(i)),
            });
        }
    }

    /// <summary>Commits <paramref name="offset"/> for <paramref name="group"/> as a consumer of that group would.</summary>
    public static void Commit(string bootstrap, string group, string topic, int partition, long offset)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false })
            .SetLogHandler((_, _) => { })
            .Build();
        consumer.Commit([new TopicPartitionOffset(topic, partition, offset)]);
        consumer.Close();
    }

    public static async Task<string> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the sample <paramref name="series"/> (name and labels exactly as exposed), or null.</summary>
    public static double? Sample(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                var value = line[(series.Length + 1)..].Trim();
                return value switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    _ => double.Parse(value, System.Globalization.CultureInfo.InvariantCulture),
                };
            }
        }

        return null;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails after <paramref name="timeout"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what, Func<T, string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}; last value: {(describe is null ? value : describe(value))}");
            }

            await Task.Delay(100);
        }
    }
}
