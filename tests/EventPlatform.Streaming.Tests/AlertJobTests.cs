using System.Globalization;
using System.Text;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Time;
using EventPlatform.Streaming.Windows;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>
/// A second job written only with the public API: per-user 5-minute transaction sums over a
/// threshold become alerts. Run on the embedded broker and checked against a plain computation.
/// </summary>
public sealed class AlertJobTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int Partitions = 3;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 300_000);
    private const long ThresholdCents = 800_000;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "alert-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private sealed record Payment(string User, long Cents);

    private sealed class SumCents : IAggregateFunction<Payment, long, long>
    {
        public long CreateAccumulator() => 0;

        public long Add(long accumulator, Payment input) => accumulator + input.Cents;

        public long Merge(long first, long second) => first + second;

        public long GetResult(long accumulator) => accumulator;
    }

    /// <summary>Values are "user,cents"; alerts are keyed by user and window, valued with the sum.</summary>
    private static StreamJob LargeSpendAlerts(string name, string payments, string alerts)
    {
        var job = new StreamJob(name);
        job.Source(payments, r => Parse(r.Value), (_, r) => r.Timestamp)
            .Filter(p => p.User != "closer")
            .KeyBy(p => p.User)
            .Window(new WindowDefinition(WindowAssigner.Tumbling(Window), LateDataPolicy.Drop))
            .Aggregate(new SumCents(), StateSerializers.Int64)
            .Filter(r => r.Result > ThresholdCents)
            .SinkTo(alerts, OutputKeys.ForWindow, r => Encoding.UTF8.GetBytes(r.Result.ToString(CultureInfo.InvariantCulture)));
        return job;
    }

    private static Payment Parse(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value);
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        return new Payment(text[..comma], long.Parse(text[(comma + 1)..], CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(ProcessingGuarantee.ExactlyOnce)]
    [InlineData(ProcessingGuarantee.AtLeastOnce)]
    public async Task Per_user_five_minute_sums_over_the_threshold_are_alerted_exactly_as_a_plain_computation_says(ProcessingGuarantee guarantee)
    {
        var prefix = "alerts-" + guarantee.ToString().ToLowerInvariant();
        kafka.Cluster.CreateTopic(prefix + ".payments", Partitions, 1);
        kafka.Cluster.CreateTopic(prefix + ".alerts", Partitions, 1);
        var random = new Random(5);
        var payments = new List<(int Partition, string User, long Cents, long Timestamp)>();
        var time = Base;
        for (var i = 0; i < 900; i++)
        {
            time += random.Next(0, 2_000);
            payments.Add((i % Partitions, "user-" + random.Next(6).ToString(CultureInfo.InvariantCulture), random.Next(100, 50_000), time));
        }
        await KafkaInput.ProduceAsync(kafka.BootstrapServers, prefix + ".payments",
            payments.Select(p => (p.Partition, $"{p.User},{p.Cents}", p.Timestamp))
                .Concat(Enumerable.Range(0, Partitions).Select(p => (p, "closer,0", Base + 3_600_000))));

        // The reference: sum per user and 5-minute window, by brute force.
        var sums = payments
            .GroupBy(p => $"{p.User}|tumbling(300000ms)[{p.Timestamp - (p.Timestamp % 300_000)},{p.Timestamp - (p.Timestamp % 300_000) + 300_000})")
            .ToDictionary(g => g.Key, g => g.Sum(p => p.Cents));
        var expected = sums.Where(s => s.Value > ThresholdCents).ToDictionary(s => s.Key, s => s.Value);
        Assert.InRange(expected.Count, 1, sums.Count - 1);

        var job = LargeSpendAlerts(prefix, prefix + ".payments", prefix + ".alerts");
        var options = new KafkaJobOptions
        {
            BootstrapServers = kafka.BootstrapServers,
            ProcessingGuarantee = guarantee,
            Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
        };
        using var runner = new KafkaJobRunner(job, options, FileCheckpointStore.ForJob(_dataDirectory, job.Name));
        runner.Start();
        await KafkaInput.WaitUntilAsync(() => runner.RecordsRead == payments.Count + Partitions, "every payment read");
        await runner.StopAsync();

        Assert.Null(runner.Failure);
        var alerts = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, prefix + ".alerts");
        Assert.Equal(expected, KafkaInput.LastPerKey(alerts));
        Assert.Equal(expected.Count, alerts.Count);
    }
}
