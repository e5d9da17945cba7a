using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>ProcessingGuarantee.ExactlyOnce on the embedded broker: transactions commit at checkpoints, a failed one is aborted.</summary>
public sealed class TransactionTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int Partitions = 3;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "txn-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private KafkaJobOptions Options(string? groupId = null, ScaleOutOptions? scaleOut = null, string? instanceId = null,
        ProcessingGuarantee guarantee = ProcessingGuarantee.ExactlyOnce) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        GroupId = groupId,
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
        Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
        ProcessingGuarantee = guarantee,
        ScaleOut = scaleOut,
        InstanceId = instanceId,
        Kafka = new() { Extra = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500" } },
    };

    [Fact]
    public void The_transactional_id_is_one_per_group_or_one_per_instance_when_scaled_out()
    {
        var job = TestJobs.CountPerMinute(TestJobs.Topics.Named("txn-ids"), name: "txn-ids");
        var store = FileCheckpointStore.ForJob(_dataDirectory, job.Name);

        using var single = new KafkaJobRunner(job, Options(), store);
        using var grouped = new KafkaJobRunner(job, Options(groupId: "team-a"), store);
        using var named = new KafkaJobRunner(job, Options(scaleOut: new ScaleOutOptions(), instanceId: "host-1"), store);
        using var unnamed = new KafkaJobRunner(job, Options(scaleOut: new ScaleOutOptions()), store);
        using var atLeastOnce = new KafkaJobRunner(job, Options(guarantee: ProcessingGuarantee.AtLeastOnce), store);

        Assert.Equal("txn-ids-txn", single.TransactionalId);
        Assert.Equal("team-a-txn", grouped.TransactionalId);
        Assert.Equal("txn-ids-txn-host-1", named.TransactionalId);
        Assert.StartsWith("txn-ids-txn-", unnamed.TransactionalId, StringComparison.Ordinal);
        Assert.NotEqual(named.TransactionalId, unnamed.TransactionalId);
        Assert.Null(atLeastOnce.TransactionalId);
    }

    [Fact]
    public async Task A_transaction_that_fails_is_aborted_the_job_stops_and_its_restart_writes_the_exact_results()
    {
        var topics = TestJobs.Topics.Named("txn-abort");
        foreach (var topic in new[] { topics.Input, topics.Output, topics.Invalid, topics.Late })
        {
            kafka.Cluster.CreateTopic(topic, Partitions, 1);
        }
        var random = new Random(11);
        var input = Enumerable.Range(0, 400)
            .Select(i => (Partition: i % Partitions, Value: "k" + random.Next(5).ToString(CultureInfo.InvariantCulture), Timestamp: Base + (i * 700L)))
            .ToList();
        await KafkaInput.ProduceAsync(kafka.BootstrapServers, topics.Input,
            input.Concat(Enumerable.Range(0, Partitions).Select(p => (p, "closer", Base + 3_600_000))));
        var expected = TestJobs.ExpectedCounts(input.Select(r => (r.Value, r.Timestamp)));
        var job = TestJobs.CountPerMinute(topics, name: "txn-abort");
        var store = FileCheckpointStore.ForJob(_dataDirectory, job.Name);
        var logger = new CapturingLogger<KafkaJobRunner>();
        using var metrics = new MetricCapture(job.Name);

        // The broker refuses the first write of the job's transaction: it can only be aborted.
        kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.TopicAuthorizationFailed);
        using (var failing = new KafkaJobRunner(job, Options(), store, logger))
        {
            failing.Start();
            await failing.Completion.WaitAsync(KafkaInput.Patience);
            Assert.NotNull(failing.Failure);
        }
        Assert.Contains(logger.Entries, e => e.Id.Id == 4014);
        Assert.Equal(1, metrics.Sum("stream_job_transactions_total", ("outcome", "aborted")));
        var committedBefore = metrics.Sum("stream_job_transactions_total", ("outcome", "committed"));

        using var restarted = new KafkaJobRunner(job, Options(), store, logger);
        restarted.Start();
        var deadline = DateTime.UtcNow + KafkaInput.Patience;
        List<ConsumeResult<byte[]?, byte[]>> results;
        Dictionary<string, long> lastPerKey;
        do
        {
            await Task.Delay(100);
            results = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Output);
            lastPerKey = KafkaInput.LastPerKey(results);
        }
        while (!expected.Keys.All(lastPerKey.ContainsKey) && DateTime.UtcNow < deadline);
        await restarted.StopAsync();

        Assert.Null(restarted.Failure);
        Assert.True(metrics.Sum("stream_job_transactions_total", ("outcome", "committed")) > committedBefore);
        Assert.Equal(expected, lastPerKey);
        // Whatever the aborted transaction had written (visible here: the embedded broker does not
        // hide aborted records) equals what the restart wrote.
        Assert.All(results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)), g =>
            Assert.Single(g.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct()));
    }
}
