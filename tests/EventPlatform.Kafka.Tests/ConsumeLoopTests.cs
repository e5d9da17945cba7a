using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Consuming;
using EventPlatform.Testing;

namespace EventPlatform.Kafka.Tests;

/// <summary>The one consume loop under every long-running reader: order, stopping, closing and failing.</summary>
public sealed class ConsumeLoopTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ConsumerConfig Config(string group) => new()
    {
        BootstrapServers = kafka.BootstrapServers,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
    };

    private async Task ProduceAsync(string topic, params string[] values)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        foreach (var value in values)
        {
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes(value) });
        }
    }

    private IConsumer<byte[]?, byte[]> Subscribed(string topic, string group)
    {
        var consumer = new ConsumerBuilder<byte[]?, byte[]>(Config(group)).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        return consumer;
    }

    private static ConsumeLoopHandlers<byte[]?, byte[]> Collecting(ConcurrentQueue<string> into, Action<Exception>? onFailure = null) => new()
    {
        OnRecord = r => into.Enqueue(Encoding.UTF8.GetString(r.Message.Value)),
        OnFailure = onFailure ?? (_ => { }),
    };

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    [Fact]
    public async Task Records_are_handed_over_in_offset_order()
    {
        kafka.Cluster.CreateTopic("loop-order", 1, 1);
        var values = Enumerable.Range(0, 50).Select(i => $"v{i}").ToArray();
        await ProduceAsync("loop-order", values);
        var read = new ConcurrentQueue<string>();
        using var loop = new ConsumeLoop<byte[]?, byte[]>(Subscribed("loop-order", "loop-order"), "test loop", Collecting(read));

        loop.Start();
        await WaitUntilAsync(() => read.Count >= values.Length);

        Assert.Equal(values, read);
    }

    [Fact]
    public async Task Stopping_closes_the_consumer_which_commits_what_was_read_before_it_is_disposed()
    {
        kafka.Cluster.CreateTopic("loop-close", 1, 1);
        await ProduceAsync("loop-close", "a", "b", "c");
        var read = new ConcurrentQueue<string>();
        var config = Config("loop-close");
        // Only a close commits within the test: the periodic auto-commit is a minute away.
        config.AutoCommitIntervalMs = 60_000;
        var consumer = new ConsumerBuilder<byte[]?, byte[]>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe("loop-close");
        using var loop = new ConsumeLoop<byte[]?, byte[]>(consumer, "close", Collecting(read));
        loop.Start();
        await WaitUntilAsync(() => read.Count == 3);

        loop.Stop();

        Assert.True(loop.Completion.IsCompleted);
        using var inspector = new ConsumerBuilder<byte[]?, byte[]>(Config("loop-close")).SetLogHandler((_, _) => { }).Build();
        var committed = inspector.Committed([new TopicPartition("loop-close", 0)], Patience);
        Assert.Equal(3, Assert.Single(committed).Offset.Value);
    }

    [Fact]
    public async Task A_handler_that_throws_stops_the_loop_and_the_failure_is_reported_once()
    {
        kafka.Cluster.CreateTopic("loop-throws", 1, 1);
        await ProduceAsync("loop-throws", "ok", "bad", "never");
        var read = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<Exception>();
        using var loop = new ConsumeLoop<byte[]?, byte[]>(Subscribed("loop-throws", "loop-throws"), "throws", new()
        {
            OnRecord = r =>
            {
                var value = Encoding.UTF8.GetString(r.Message.Value);
                read.Enqueue(value);
                if (value == "bad")
                {
                    throw new InvalidDataException("bad record");
                }
            },
            OnFailure = failures.Enqueue,
        });

        loop.Start();
        await loop.Completion.WaitAsync(Patience);

        Assert.Equal(["ok", "bad"], read);
        var failure = Assert.Single(failures);
        Assert.IsType<InvalidDataException>(failure);
    }

    [Fact]
    public async Task Stopping_twice_or_through_cancellation_is_harmless()
    {
        kafka.Cluster.CreateTopic("loop-stop", 1, 1);
        using var cancel = new CancellationTokenSource();
        var loop = new ConsumeLoop<byte[]?, byte[]>(Subscribed("loop-stop", "loop-stop"), "stop", Collecting(new()));
        loop.Start(cancel.Token);

        await cancel.CancelAsync();
        await loop.Completion.WaitAsync(Patience);
        loop.Stop();
        await loop.StopAsync();
        loop.Dispose();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => loop.Start());
    }

    [Fact]
    public void Disposing_a_loop_that_never_started_closes_and_disposes_the_consumer()
    {
        var consumer = Subscribed("loop-never", "loop-never");
        var loop = new ConsumeLoop<byte[]?, byte[]>(consumer, "never", Collecting(new()));

        loop.Dispose();

        Assert.True(loop.Completion.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => consumer.Consume(TimeSpan.Zero));
    }

    [Fact]
    public async Task A_loop_given_a_niceness_runs_its_thread_at_it_and_the_rest_of_the_process_keeps_its_own()
    {
        const string topic = "loop-niceness";
        kafka.Cluster.CreateTopic(topic, 1, 1);
        await ProduceAsync(topic, "a");
        var read = new ConcurrentQueue<string>();
        int? threadNice = null;
        using var loop = new ConsumeLoop<byte[]?, byte[]>(Subscribed(topic, "loop-niceness"), "loop-niceness", new ConsumeLoopHandlers<byte[]?, byte[]>
        {
            OnRecord = r =>
            {
                threadNice ??= NiceOfThread(CurrentThreadId());
                read.Enqueue(Encoding.UTF8.GetString(r.Message.Value));
            },
            OnFailure = _ => { },
        }, niceness: 7);
        loop.Start();
        var deadline = DateTime.UtcNow + Patience;
        while (read.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["a"], read);
        Assert.True(loop.NicenessApplied);
        Assert.Equal(7, threadNice);
        Assert.Equal(0, NiceOfThread(CurrentThreadId()));
        using var other = Subscribed(topic, "loop-niceness-bad");
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsumeLoop<byte[]?, byte[]>(other, "bad", Collecting(read), niceness: 20));
    }

    // Field 19 of a thread's stat file is its nice value (counted after the command in parentheses, field 2).
    private static int NiceOfThread(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int CurrentThreadId() => int.Parse(File.ReadAllText("/proc/thread-self/stat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
