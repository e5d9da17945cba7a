using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Topics;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using EventPlatform.Testing;

namespace EventPlatform.Streaming.Tests;

/// <summary>The Kafka checkpoint store on the embedded broker: round trips, several instances, corruption, setting aside, a job's crash and restart.</summary>
public sealed class KafkaCheckpointStoreTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>, IDisposable
{
    private const int Partitions = 3;
    private const long Base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly List<KafkaCheckpointStore> _stores = [];

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    /// <summary>A store object of its own, as another instance of the job would have.</summary>
    private KafkaCheckpointStore Store(string job)
    {
        var store = new KafkaCheckpointStore(new KafkaCheckpointStoreOptions
        {
            BootstrapServers = kafka.BootstrapServers,
            JobName = job,
            Topics = new EmbeddedTopicProvisioner(kafka.Cluster),
            ReplicationFactor = 1,
        });
        _stores.Add(store);
        return store;
    }

    private static Checkpoint Make(long offset) => new(
        "cluster-a", "job", "fp", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
        new Dictionary<SourcePartition, long> { [new("in", 0)] = offset, [new("in", 1)] = offset + 1 },
        [1, 2, 3, (byte)offset]);

    private static void AssertSame(Checkpoint expected, Checkpoint? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.ClusterId, actual.ClusterId);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Offsets, actual.Offsets);
        Assert.Equal(expected.State, actual.State);
    }

    private async Task ProduceRawAsync(string topic, string key, byte[] value)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).Build();
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value });
    }

    [Fact]
    public void A_saved_checkpoint_loads_back_and_the_latest_save_wins()
    {
        var store = Store("ks-roundtrip");

        Assert.Null(store.Load());
        store.Save(Make(1));
        AssertSame(Make(1), store.Load());
        store.Save(Make(2));
        store.Save(Make(3));

        AssertSame(Make(3), store.Load());
        AssertSame(Make(3), Store("ks-roundtrip").Load());
        Assert.Null(store.LastLoadProblem);
    }

    [Fact]
    public void Two_instances_see_each_others_saves_and_partitions_are_independent()
    {
        var first = Store("ks-instances");
        var second = Store("ks-instances");

        first.Partition("in-0").Save(Make(10));
        second.Partition("in-1").Save(Make(20));
        Assert.Null(first.Partition("in-2").Load());
        AssertSame(Make(10), second.Partition("in-0").Load());
        AssertSame(Make(20), first.Partition("in-1").Load());
        second.Partition("in-0").Save(Make(11));

        AssertSame(Make(11), first.Partition("in-0").Load());
        AssertSame(Make(20), first.Partition("in-1").Load());
        // The job's own checkpoint is a key of its own too.
        Assert.Null(first.Load());
    }

    [Fact]
    public async Task A_corrupt_latest_value_is_not_applied()
    {
        var store = Store("ks-corrupt");
        store.Save(Make(1));
        var corrupt = Make(2).Serialize();
        corrupt[^10] ^= 0xFF;
        await ProduceRawAsync(store.Topic, store.Key, corrupt);
        var partition = (KafkaCheckpointStore)store.Partition("p");
        await ProduceRawAsync(store.Topic, partition.Key, corrupt);

        var reader = Store("ks-corrupt");
        var loaded = reader.Load();
        var partitionLoaded = ((KafkaCheckpointStore)reader.Partition("p")).Load();

        // With the intact record before it still in the topic, that one; with none, nothing.
        AssertSame(Make(1), loaded);
        Assert.Contains("CRC", reader.LastLoadProblem, StringComparison.Ordinal);
        Assert.Null(partitionLoaded);
    }

    [Fact]
    public async Task A_checkpoint_set_aside_is_not_loaded_again_by_any_instance_and_is_kept()
    {
        var store = Store("ks-aside");
        store.Save(Make(1));
        store.Partition("p").Save(Make(2));

        store.SetAside("another cluster");

        Assert.Null(store.Load());
        Assert.Null(Store("ks-aside").Load());
        AssertSame(Make(2), Store("ks-aside").Partition("p").Load());
        var kept = (await KafkaReader.ReadAllAsync(kafka.BootstrapServers, store.Topic))
            .Where(r => Encoding.UTF8.GetString(r.Message.Key!).StartsWith("ks-aside/set-aside/", StringComparison.Ordinal))
            .ToList();
        AssertSame(Make(1), Checkpoint.Deserialize(Assert.Single(kept).Message.Value));
        Assert.Equal("another cluster", Encoding.UTF8.GetString(kept[0].Message.Headers.GetLastBytes("reason")));
    }

    [Fact]
    public void A_checkpoint_over_the_limit_is_refused_with_a_clear_error()
    {
        var store = new KafkaCheckpointStore(new KafkaCheckpointStoreOptions
        {
            BootstrapServers = kafka.BootstrapServers,
            JobName = "ks-large",
            Topics = new EmbeddedTopicProvisioner(kafka.Cluster),
            ReplicationFactor = 1,
            MaxCheckpointBytes = 100,
        });
        _stores.Add(store);
        var large = Make(1) with { State = new byte[200] };

        var error = Assert.Throws<CheckpointTooLargeException>(() => store.Save(large));

        Assert.Contains("MaxCheckpointBytes", error.Message, StringComparison.Ordinal);
        Assert.Null(store.Load());
    }

    [Fact]
    public async Task A_job_killed_after_a_checkpoint_resumes_from_the_kafka_store_with_exact_results()
    {
        var topics = TestJobs.Topics.Named("ks-job");
        foreach (var topic in new[] { topics.Input, topics.Output, topics.Invalid, topics.Late })
        {
            kafka.Cluster.CreateTopic(topic, Partitions, 1);
        }
        var input = Input(1200, seed: 5);
        var half = input.Count / 2;
        var expected = TestJobs.ExpectedCounts(input.Select(r => (r.Value, r.Timestamp)));
        var job = TestJobs.CountPerMinute(topics, name: "ks-job");
        await ProduceAsync(topics.Input, input.Take(half));

        var first = new KafkaJobRunner(job, Options(), Store(job.Name));
        first.Start();
        var observer = Store(job.Name);
        await WaitUntilAsync(() => observer.Load()?.Offsets.Values.Sum() == half);
        first.Dispose();
        await ProduceAsync(topics.Input, input.Skip(half).Concat(Enumerable.Range(0, Partitions).Select(p => (p, "closer", Base + 3_600_000))));

        // Another store object, as on another machine; starting at the end without a checkpoint
        // would read nothing, so the results prove the restore came from the Kafka store.
        using var second = new KafkaJobRunner(job, Options(startFromBeginning: false), Store(job.Name));
        second.Start();
        await WaitUntilAsync(() => observer.Load()?.Offsets.Values.Sum() == input.Count + Partitions);
        await second.StopAsync();
        var results = await KafkaReader.ReadAllAsync(kafka.BootstrapServers, topics.Output);

        Assert.Null(first.Failure);
        Assert.Null(second.Failure);
        var lastPerKey = results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!))
            .Where(g => !g.Key.StartsWith("closer|", StringComparison.Ordinal))
            .ToDictionary(g => g.Key, g => long.Parse(Encoding.UTF8.GetString(g.Last().Message.Value), CultureInfo.InvariantCulture));
        Assert.Equal(expected, lastPerKey);
        Assert.All(results.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)), g =>
            Assert.Single(g.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Distinct()));
    }

    private KafkaJobOptions Options(bool startFromBeginning = true) => new()
    {
        StartFromBeginning = startFromBeginning,
        BootstrapServers = kafka.BootstrapServers,
        CheckpointInterval = TimeSpan.FromMilliseconds(50),
        Watermarks = new WatermarkOptions { MaxOutOfOrderness = TimeSpan.FromSeconds(10) },
        Kafka = new() { Extra = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500" } },
    };

    /// <summary>Records over a few minutes for 4 keys, round robin over the partitions.</summary>
    private static List<(int Partition, string Value, long Timestamp)> Input(int count, int seed)
    {
        var random = new Random(seed);
        var records = new List<(int, string, long)>();
        var time = Base;
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 600);
            records.Add((i % Partitions, "k" + random.Next(4).ToString(CultureInfo.InvariantCulture), time));
        }
        return records;
    }

    private Task ProduceAsync(string topic, IEnumerable<(int Partition, string Value, long Timestamp)> records) =>
        KafkaTestRecords.ProduceAsync(kafka.BootstrapServers, topic, records, Patience);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }
}
