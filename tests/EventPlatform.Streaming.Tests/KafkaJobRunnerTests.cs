using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>The Kafka runtime over the embedded broker: results, side outputs, crash and restart, foreign checkpoints.</summary>
public sealed class KafkaJobRunnerTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int Partitions = 3;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "runtime-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private TestJobs.Topics CreateTopics(string prefix)
    {
        var topics = TestJobs.Topics.Named(prefix);
        foreach (var topic in new[] { topics.Input, topics.Output, topics.Invalid, topics.Late })
        {
            kafka.Cluster.CreateTopic(topic, Partitions, 1);
        }
        return topics;
    }

    private KafkaJobOptions Options(TimeSpan? checkpointInterval = null) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        CheckpointInterval = checkpointInterval ?? TimeSpan.FromMinutes(10),
        Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
        // A restarted job rejoins its group; the embedded broker holds the join until members it
        // still counts time out, so keep that short.
        Kafka = new() { Extra = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500" } },
    };

    /// <summary>Records over 5 minutes for 4 keys and 2 invalid ones, then per partition one record an hour later that closes every window.</summary>
    private static List<(int Partition, string Value, long Timestamp)> Input(int count, int seed)
    {
        var random = new Random(seed);
        var records = new List<(int, string, long)>();
        var time = Base;
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 600);
            var value = i % 97 == 13 ? "!invalid-" + i.ToString(CultureInfo.InvariantCulture) : "k" + random.Next(4).ToString(CultureInfo.InvariantCulture);
            records.Add((i % Partitions, value, time));
        }
        return records;
    }

    private static IEnumerable<(int Partition, string Value, long Timestamp)> Closers(long timestamp) =>
        Enumerable.Range(0, Partitions).Select(p => (p, "closer", timestamp));

    private Task ProduceAsync(string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.ProduceAsync(kafka.BootstrapServers, topic, records, Patience);

    private static Dictionary<string, long> Expected(IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.Expected(records);

    private static Dictionary<string, long> LastPerKey(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        KafkaTestRecords.LastPerKey(records);

    /// <summary>Reads the output topic until every expected window is there (or the patience runs out), to the end.</summary>
    private async Task<List<ConsumeResult<byte[]?, byte[]>>> ReadResultsAsync(string topic, Dictionary<string, long> expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var records = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topic);
            if (expected.Keys.All(LastPerKey(records).ContainsKey) || DateTime.UtcNow > deadline)
            {
                return records;
            }
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    [Fact]
    public void The_cluster_id_of_the_embedded_broker_is_read_from_its_metadata()
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            GroupId = "cluster-id",
        }).Build();

        var id = KafkaClusterId.TryGet(consumer.Handle, Patience);

        Assert.False(string.IsNullOrWhiteSpace(id));
    }

    [Fact]
    public async Task A_job_counts_per_key_and_minute_exactly_once_and_sends_invalid_records_to_their_topic()
    {
        var topics = CreateTopics("rt-count");
        var input = Input(600, seed: 1);
        await ProduceAsync(topics.Input, input.Concat(Closers(Base + 3_600_000)));
        var expected = Expected(input);
        var job = TestJobs.CountPerMinute(topics, name: "rt-count");
        using var runner = new KafkaJobRunner(job, Options(), FileCheckpointStore.ForJob(_dataDirectory, job.Name));

        runner.Start();
        var results = await ReadResultsAsync(topics.Output, expected);
        await runner.StopAsync();

        Assert.Null(runner.Failure);
        Assert.NotNull(runner.ClusterId);
        Assert.Equal(expected, LastPerKey(results));
        // A clean run writes each window once.
        Assert.Equal(expected.Count, results.Count);
        var invalid = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Invalid);
        Assert.Equal(
            input.Where(r => r.Value.StartsWith('!')).Select(r => r.Value).Order(StringComparer.Ordinal),
            invalid.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Order(StringComparer.Ordinal));
        Assert.Equal(1, runner.CheckpointsWritten);
    }

    [Fact]
    public async Task A_job_killed_after_a_checkpoint_and_restarted_ends_with_the_results_of_one_clean_run()
    {
        var topics = CreateTopics("rt-crash");
        var input = Input(3000, seed: 2);
        var half = input.Count / 2;
        var expected = Expected(input);
        var job = TestJobs.CountPerMinute(topics, name: "rt-crash");
        var store = new RecordingStore(FileCheckpointStore.ForJob(_dataDirectory, job.Name));
        await ProduceAsync(topics.Input, input.Take(half));

        var first = new KafkaJobRunner(job, Options(TimeSpan.FromMilliseconds(50)), store);
        first.Start();
        await WaitUntilAsync(() => store.Saved.Any(c => c.Offsets.Values.Sum() == half));
        // From here on the process "dies" before each checkpoint reaches the disk: everything the
        // first runner does with the second half is work a crash loses.
        store.Frozen = true;
        await ProduceAsync(topics.Input, input.Skip(half).Concat(Closers(Base + 3_600_000)));
        await ReadResultsAsync(topics.Output, expected);
        first.Dispose();
        Assert.True(store.IgnoredSaves > 0);
        store.Frozen = false;

        using var second = new KafkaJobRunner(job, Options(TimeSpan.FromMilliseconds(50)), store);
        second.Start();
        // Its checkpoints follow flushed output: once one covers all input, the replay is written.
        await WaitUntilAsync(() => store.Saved.Any(c => c.Offsets.Values.Sum() == input.Count + Partitions));
        await second.StopAsync();
        var results = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Output);

        Assert.Null(first.Failure);
        Assert.Null(second.Failure);
        Assert.Equal(expected, LastPerKey(results));
        // The second half's windows were written twice, by the first runner and by the replay,
        // and the replay wrote exactly what the first runner had.
        Assert.True(results.Count > expected.Count, $"{results.Count} records for {expected.Count} windows: nothing was replayed");
        Assert.All(results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)), g =>
            Assert.Single(g.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct()));
    }

    [Theory]
    [InlineData("cluster")]
    [InlineData("definition")]
    public async Task A_checkpoint_of_another_cluster_or_job_definition_is_set_aside_and_not_applied(string foreign)
    {
        var topics = CreateTopics("rt-foreign-" + foreign);
        var input = Input(200, seed: 3);
        await ProduceAsync(topics.Input, input.Concat(Closers(Base + 3_600_000)));
        var expected = Expected(input);
        var job = TestJobs.CountPerMinute(topics, name: "rt-foreign-" + foreign);
        var store = FileCheckpointStore.ForJob(_dataDirectory, job.Name);
        string clusterId;
        using (var probe = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "probe" }).Build())
        {
            clusterId = KafkaClusterId.TryGet(probe.Handle, Patience)!;
        }
        // Offsets past the end: if it were applied, the job would read nothing.
        var writer = foreign == "cluster" ? job : TestJobs.CountPerMinute(topics, name: job.Name, version: "2");
        var state = new JobInstance(writer, new ListOutput(), new WatermarkOptions(), TimeProvider.System).WriteState();
        store.Save(new Checkpoint(
            foreign == "cluster" ? "another-cluster" : clusterId, job.Name, writer.Fingerprint, DateTimeOffset.UtcNow,
            Enumerable.Range(0, Partitions).ToDictionary(p => new SourcePartition(topics.Input, p), _ => 1_000_000L), state));
        var logger = new CapturingLogger<KafkaJobRunner>();
        using var runner = new KafkaJobRunner(job, Options(), store, logger);

        runner.Start();
        var results = await ReadResultsAsync(topics.Output, expected);
        await runner.StopAsync();

        Assert.Equal(expected, LastPerKey(results));
        Assert.Contains(logger.Entries, e => e.Id.Id == 4003);
        Assert.Single(Directory.GetDirectories(Path.Combine(store.Directory, "set-aside")));
    }

    private sealed class RecordingStore(ICheckpointStore inner) : ICheckpointStore
    {
        private readonly List<Checkpoint> _saved = [];
        private readonly Lock _lock = new();

        public IReadOnlyList<Checkpoint> Saved
        {
            get
            {
                lock (_lock)
                {
                    return [.. _saved];
                }
            }
        }

        private volatile bool _frozen;
        private volatile int _ignoredSaves;

        public bool Frozen
        {
            get => _frozen;
            set => _frozen = value;
        }

        public int IgnoredSaves => _ignoredSaves;

        public Checkpoint? Load() => inner.Load();

        public void Save(Checkpoint checkpoint)
        {
            if (Frozen)
            {
                _ignoredSaves++;
                return;
            }
            inner.Save(checkpoint);
            lock (_lock)
            {
                _saved.Add(checkpoint);
            }
        }

        public void SetAside(string reason) => inner.SetAside(reason);
    }
}
