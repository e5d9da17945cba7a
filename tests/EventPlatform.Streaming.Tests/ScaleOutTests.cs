using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Topics;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>
/// Scale-out on the embedded broker: several runners in one consumer group, keyed windows behind a
/// repartition topic, the same results whoever reads which partition, instances coming and going.
/// </summary>
public sealed class ScaleOutTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int InputPartitions = 4;
    private const int RepartitionPartitions = 6;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "scaleout-tests-" + Guid.NewGuid().ToString("N"));
    private readonly List<KafkaJobRunner> _runners = [];

    public void Dispose()
    {
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private KafkaJobOptions Options(int? routeBatchBytes = null, int? maxRepartitionLag = null) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        CheckpointInterval = TimeSpan.FromMilliseconds(200),
        Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
        Kafka = new() { Extra = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500" } },
        ScaleOut = new ScaleOutOptions
        {
            RepartitionPartitions = RepartitionPartitions,
            Topics = new EmbeddedTopicProvisioner(kafka.Cluster),
            WatermarkInterval = TimeSpan.FromMilliseconds(50),
            RouteBatchBytes = routeBatchBytes ?? new ScaleOutOptions().RouteBatchBytes,
            MaxRepartitionLag = maxRepartitionLag ?? new ScaleOutOptions().MaxRepartitionLag,
        },
    };

    /// <summary>
    /// Records for 8 keys over about 15 minutes on random partitions, out of order by up to 5 s
    /// (on time under the 10 s bound), with a few invalid ones.
    /// </summary>
    private static List<(int Partition, string Value, long Timestamp)> Input(int count, int seed)
    {
        var random = new Random(seed);
        var records = new List<(int, string, long)>();
        var time = Base + 5_000;
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 500);
            var value = i % 89 == 7 ? "!invalid-" + i.ToString(CultureInfo.InvariantCulture) : "k" + random.Next(8).ToString(CultureInfo.InvariantCulture);
            records.Add((random.Next(InputPartitions), value, time - random.Next(0, 5_000)));
        }
        return records;
    }

    private static IEnumerable<(int Partition, string Value, long Timestamp)> Closers() =>
        Enumerable.Range(0, InputPartitions).Select(p => (p, "closer", Base + 3_600_000));

    private Task ProduceAsync(string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.ProduceAsync(kafka.BootstrapServers, topic, records, Patience);

    private static Dictionary<string, long> Expected(IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.Expected(records);

    private static Dictionary<string, long> LastPerKey(IEnumerable<ConsumeResult<byte[]?, byte[]>> records) =>
        KafkaTestRecords.LastPerKey(records);

    private TestJobs.Topics CreateTopics(string input, string name)
    {
        var topics = new TestJobs.Topics(input, $"{name}.out", $"{name}.invalid", $"{name}.late");
        foreach (var topic in new[] { topics.Output, topics.Invalid, topics.Late })
        {
            kafka.Cluster.CreateTopic(topic, 3, 1);
        }
        return topics;
    }

    /// <summary>An input topic of its own, 3,600 records for it, their expected counts, and the count-per-minute job over them.</summary>
    private (string Input, List<(int Partition, string Value, long Timestamp)> Records, Dictionary<string, long> Expected, TestJobs.Topics Topics, Streaming.DataStream.StreamJob Job) CountJob(string name, int seed)
    {
        var input = $"{name}.in";
        kafka.Cluster.CreateTopic(input, InputPartitions, 1);
        var records = Input(3600, seed);
        var topics = CreateTopics(input, name);
        return (input, records, Expected(records), topics, TestJobs.CountPerMinute(topics, name: name));
    }

    private KafkaJobRunner StartRunner(Streaming.DataStream.StreamJob job, IPartitionedCheckpointStore? store = null, int? routeBatchBytes = null, int? maxRepartitionLag = null)
    {
        var options = Options(routeBatchBytes, maxRepartitionLag);
        var runner = new KafkaJobRunner(job, options, store ?? FileCheckpointStore.ForJob(_dataDirectory, job.Name));
        _runners.Add(runner);
        runner.Start();
        return runner;
    }

    /// <summary>Reads the output until its last record per key equals <paramref name="expected"/> (or the patience runs out).</summary>
    private async Task<List<ConsumeResult<byte[]?, byte[]>>> ReadUntilAsync(string topic, Dictionary<string, long> expected, bool complete = true)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var records = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topic);
            var last = LastPerKey(records);
            if (((!complete || last.Count == expected.Count) && expected.All(e => last.TryGetValue(e.Key, out var v) && v == e.Value)) || DateTime.UtcNow > deadline)
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

    /// <summary>The end of the window in a "key|tumbling(60000ms)[start,end)" output key.</summary>
    private static long WindowEnd(string key) =>
        long.Parse(key[(key.LastIndexOf(',') + 1)..^1], CultureInfo.InvariantCulture);

    private static bool Settled(IReadOnlyCollection<KafkaJobRunner> runners) =>
        runners.All(r => r.AssignedPartitions > 0) && runners.Sum(r => r.AssignedPartitions) == InputPartitions + RepartitionPartitions;

    [Fact]
    public async Task One_two_and_three_instances_in_one_group_give_the_results_of_the_reference_computation()
    {
        var records = Input(2400, seed: 11);
        var expected = Expected(records);
        var runs = new List<(Dictionary<string, long> Results, List<string> Invalid)>();
        var pauses = 0;

        foreach (var instances in new[] { 1, 2, 3 })
        {
            // The same input in a topic of its own per run, written once the group has settled.
            var input = $"so-same-{instances}.in";
            kafka.Cluster.CreateTopic(input, InputPartitions, 1);
            var topics = CreateTopics(input, $"so-same-{instances}");
            var job = TestJobs.CountPerMinute(topics, name: $"so-same-{instances}");
            using var metrics = new MetricCapture(job.Name);
            // The tightest back-pressure: the sources pause whenever a window task is more than one record
            // behind, and resume only when it has read everything (commit markers included).
            var runners = Enumerable.Range(0, instances).Select(_ => StartRunner(job, maxRepartitionLag: 1)).ToList();
            // The group settles before the input arrives, so that every instance gets a share.
            await WaitUntilAsync(() => Settled(runners));
            await ProduceAsync(input, records.Concat(Closers()));

            var results = await ReadUntilAsync(topics.Output, expected);
            await Task.WhenAll(runners.Select(r => r.StopAsync()));
            var invalid = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Invalid);
            var late = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Late);

            Assert.All(runners, r => Assert.Null(r.Failure));
            Assert.All(runners, r => Assert.True(r.RecordsRead > 0, $"an instance of {instances} read nothing"));
            pauses += runners.Sum(r => r.SourcePauses);
            // Alone, an instance skips the hop once it has read what it routed (with company, only until the others join).
            Assert.True(instances > 1 || runners[0].LocalSwitches > 0, "one instance alone never skipped the hop");
            Assert.Equal($"{job.Name}-repartition", runners[0].RepartitionTopic);
            Assert.Empty(late);
            // Clean runs: each window once, whichever instance computed it.
            Assert.Equal(expected.Count, results.Count);
            // The instances' counts add up to one run's: source records once each (not the hop),
            // sink writes once each, every valid record into exactly one window partition.
            Assert.Equal(records.Count + InputPartitions, metrics.Sum("flink_taskmanager_job_task_operator_records_consumed_total"));
            Assert.Equal(results.Count + invalid.Count, metrics.Sum("flink_taskmanager_job_task_operator_records_emitted_total"));
            Assert.Equal(records.Count(r => !r.Value.StartsWith('!')) + InputPartitions, metrics.All("flink_taskmanager_job_task_operator_latency_seconds").Count);
            Assert.True(metrics.Sum("stream_job_transactions_total", ("outcome", "committed")) >= instances);
            runs.Add((LastPerKey(results), invalid.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Order(StringComparer.Ordinal).ToList()));
        }

        // Back-pressure paused and resumed the sources (the results above are exact all the same).
        Assert.True(pauses > 0, "the sources were never paused");
        var invalidExpected = records.Where(r => r.Value.StartsWith('!')).Select(r => r.Value).Order(StringComparer.Ordinal).ToList();
        Assert.All(runs, run =>
        {
            Assert.Equal(expected, run.Results);
            Assert.Equal(invalidExpected, run.Invalid);
        });
    }

    [Fact]
    public async Task Instances_added_stopped_and_crashed_mid_stream_end_with_every_window_exact()
    {
        var (input, records, expected, topics, job) = CountJob("so-churn", seed: 12);
        var third = records.Count / 3;

        var a = StartRunner(job);
        await ProduceAsync(input, records.Take(third));
        // The first instance alone has closed windows before the others come.
        await WaitUntilAsync(() => a.CheckpointsWritten > 2 && a.RecordsRead >= third);

        // b routes every record in a batch of its own, a and c in batches of many: the size is not part of the results.
        var b = StartRunner(job, routeBatchBytes: 1);
        var crashing = new FreezableStore(FileCheckpointStore.ForJob(_dataDirectory, job.Name));
        var c = StartRunner(job, crashing);
        await WaitUntilAsync(() => Settled([a, b, c]));
        await ProduceAsync(input, records.Skip(third).Take(third));
        await WaitUntilAsync(() => b.RecordsRead > 0 && c.RecordsRead > 0 && b.CheckpointsWritten > 1 && c.CheckpointsWritten > 1);

        // b leaves cleanly: a final checkpoint, its partitions move to a and c.
        await b.StopAsync();
        await WaitUntilAsync(() => Settled([a, c]));
        // From here c "dies" before each checkpoint reaches the disk; then it is killed once the
        // windows the third part closes are out: all its work on that part is replayed by a.
        crashing.Frozen = true;
        var part3 = records.Skip(2 * third).ToList();
        await ProduceAsync(input, part3);
        var closedBy3 = part3.Max(r => r.Timestamp) - 60_000;
        var closed = expected.Where(e => WindowEnd(e.Key) <= closedBy3).ToDictionary(e => e.Key, e => e.Value);
        await ReadUntilAsync(topics.Output, closed, complete: false);
        c.Dispose();
        Assert.True(crashing.IgnoredSaves > 0);
        await ProduceAsync(input, Closers());

        var results = await ReadUntilAsync(topics.Output, expected);
        await a.StopAsync();
        results = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Output);

        Assert.Null(a.Failure);
        Assert.Null(b.Failure);
        // a skipped the hop while alone, at the start and again after c's crash.
        Assert.True(a.LocalSwitches >= 2, $"a went local {a.LocalSwitches} times");
        Assert.Equal(expected, LastPerKey(results));
        Assert.True(results.Count > expected.Count, $"{results.Count} records for {expected.Count} windows: nothing of c's was replayed");
        // A replay writes what the first computation wrote: every copy of a window's result is equal.
        Assert.All(results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)), g =>
            Assert.Single(g.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct()));
        Assert.Empty(await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Late));
        var invalid = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Invalid);
        Assert.Equal(
            records.Where(r => r.Value.StartsWith('!')).Select(r => r.Value).Order(StringComparer.Ordinal),
            invalid.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Alone_an_instance_skips_the_hop_and_a_crash_between_the_halves_of_a_checkpoint_loses_and_repeats_nothing()
    {
        var (input, records, expected, topics, job) = CountJob("so-local", seed: 14);
        var third = records.Count / 3;
        // The window tasks' checkpoints reach the disk, the source partitions' do not: as if every
        // checkpoint crashed between its two halves. Records applied locally are in no topic, so only
        // the tasks' applied marks keep the replay of the sources from counting them twice.
        var repartition = KafkaJobRunner.RepartitionTopicName(job.Name);
        var halves = new FreezableStore(FileCheckpointStore.ForJob(_dataDirectory, job.Name), name => !name.StartsWith(repartition, StringComparison.Ordinal));

        var a = StartRunner(job, halves);
        await ProduceAsync(input, records.Take(third));
        await WaitUntilAsync(() => a.LocalSwitches > 0 && a.RecordsRead >= third && a.CheckpointsWritten > 2);
        halves.Frozen = true;
        var frozenAt = a.CheckpointsWritten;
        await ProduceAsync(input, records.Skip(third).Take(third));
        await WaitUntilAsync(() => a.RecordsRead >= 2 * third && a.CheckpointsWritten > frozenAt + 2);
        a.Dispose();
        Assert.True(halves.IgnoredSaves > 0);
        Assert.Equal(1, a.LocalSwitches);

        var b = StartRunner(job);
        await ProduceAsync(input, records.Skip(2 * third).Concat(Closers()));
        var results = await ReadUntilAsync(topics.Output, expected);
        await b.StopAsync();
        results = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Output);

        Assert.Null(b.Failure);
        Assert.True(b.LocalSwitches > 0, "the restarted instance never skipped the hop");
        Assert.Equal(expected, LastPerKey(results));
        // A window closed before the crash and again after it was computed from the same records.
        Assert.All(results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)), g =>
            Assert.Single(g.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct()));
        Assert.Empty(await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Late));
    }

    [Fact]
    public async Task Two_instances_of_a_job_without_windows_share_its_partitions_with_a_checkpoint_each()
    {
        const string input = "so-stateless.in";
        const string output = "so-stateless.out";
        kafka.Cluster.CreateTopic(input, InputPartitions, 1);
        kafka.Cluster.CreateTopic(output, 3, 1);
        var job = new Streaming.DataStream.StreamJob("so-stateless");
        job.Source(input, r => r, (r, _) => r.Timestamp)
            .Map(r => (Id: $"{r.Partition}:{r.Offset}", Text: Encoding.UTF8.GetString(r.Value)))
            .SinkTo(output, e => Encoding.UTF8.GetBytes(e.Id), e => Encoding.UTF8.GetBytes(e.Text.ToUpperInvariant()));
        var runners = new[] { StartRunner(job), StartRunner(job) };
        await WaitUntilAsync(() => runners.All(r => r.AssignedPartitions > 0) && runners.Sum(r => r.AssignedPartitions) == InputPartitions);
        var records = Input(800, seed: 13);
        await ProduceAsync(input, records);

        await WaitUntilAsync(() => runners.Sum(r => r.RecordsRead) >= records.Count);
        await Task.WhenAll(runners.Select(r => r.StopAsync()));
        var written = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, output);

        Assert.All(runners, r => Assert.True(r.RecordsRead > 0));
        Assert.All(runners, r => Assert.Null(r.RepartitionTopic));
        Assert.Equal(records.Count, written.Count);
        Assert.Equal(
            records.Select(r => r.Value.ToUpperInvariant()).Order(StringComparer.Ordinal),
            written.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Order(StringComparer.Ordinal));
        var store = FileCheckpointStore.ForJob(_dataDirectory, job.Name);
        Assert.Equal(InputPartitions, Directory.GetDirectories(Path.Combine(store.Directory, "partitions")).Length);
    }

    /// <summary>
    /// A store whose saves can be made to vanish, as if the process died before each reached the disk;
    /// with <paramref name="freezes"/>, only those of the partitions it names.
    /// </summary>
    private sealed class FreezableStore(IPartitionedCheckpointStore inner, Func<string, bool>? freezes = null) : IPartitionedCheckpointStore
    {
        private volatile bool _frozen;
        private int _ignoredSaves;

        public bool Frozen
        {
            get => _frozen;
            set => _frozen = value;
        }

        public int IgnoredSaves => Volatile.Read(ref _ignoredSaves);

        public Checkpoint? Load() => inner.Load();

        public void Save(Checkpoint checkpoint)
        {
            if (_frozen)
            {
                Interlocked.Increment(ref _ignoredSaves);
                return;
            }
            inner.Save(checkpoint);
        }

        public void SetAside(string reason) => inner.SetAside(reason);

        public ICheckpointStore Partition(string name) =>
            freezes is null || freezes(name) ? new Part(this, inner.Partition(name)) : inner.Partition(name);

        private sealed class Part(FreezableStore owner, ICheckpointStore store) : ICheckpointStore
        {
            public Checkpoint? Load() => store.Load();

            public void Save(Checkpoint checkpoint)
            {
                if (owner.Frozen)
                {
                    Interlocked.Increment(ref owner._ignoredSaves);
                    return;
                }
                store.Save(checkpoint);
            }

            public void SetAside(string reason) => store.SetAside(reason);
        }
    }
}
