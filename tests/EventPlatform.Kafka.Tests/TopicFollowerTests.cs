using System.Text;
using Confluent.Kafka;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Kafka.Topics;
using EventPlatform.Testing;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Tests;

/// <summary>The reader of a state topic: partitions as the cluster has them, and what it does when the topic cannot be read.</summary>
public sealed class TopicFollowerTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(new EmbeddedKafkaOptions { BootstrapPort = null });
    private readonly Lock _gate = new();
    private readonly List<(int Partition, string Value)> _applied = [];
    private readonly CapturingLogger _logger = new();
    private readonly TaskCompletionSource<TopicFollowerException> _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private KafkaOptions Kafka => new() { BootstrapServers = _cluster.BootstrapServers };

    private TopicFollower Follower(string topic, Func<TopicFollowerSettings, TopicFollowerSettings>? adjust = null)
    {
        var settings = new TopicFollowerSettings(topic, "test-follower", "test-follower") { Timeout = TimeSpan.FromSeconds(5), ReadyTimeout = TimeSpan.FromSeconds(10) };
        return new TopicFollower(Kafka, adjust?.Invoke(settings) ?? settings, _gate,
            record =>
            {
                lock (_gate)
                {
                    _applied.Add((record.Partition.Value, Encoding.UTF8.GetString(record.Message.Value!)));
                }
            },
            failure => _fatal.TrySetResult(failure),
            _logger);
    }

    private async Task<DeliveryResult<byte[]?, byte[]>> ProduceAsync(string topic, int partition, string value)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(KafkaClientConfig.ForProducer(Kafka, "test", _cluster.BootstrapServers)).SetLogHandler((_, _) => { }).Build();
        return await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes(value) });
    }

    [Fact]
    public async Task It_follows_as_many_partitions_as_the_cluster_has_and_reads_them_from_the_start()
    {
        _cluster.CreateTopic("state-3", 3, 3);
        await ProduceAsync("state-3", 0, "a");
        await ProduceAsync("state-3", 2, "b");
        using var follower = Follower("state-3");

        var ends = await follower.StartAsync(CancellationToken.None);
        var later = await ProduceAsync("state-3", 1, "c");
        await follower.WaitUntilReadAsync(later.Partition.Value, later.Offset.Value, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(3, follower.Partitions);
        Assert.Equal([1L, 0L, 1L], ends);
        lock (_gate)
        {
            Assert.Equal(["a", "b", "c"], _applied.Select(a => a.Value).Order());
        }
    }

    [Fact]
    public async Task Reading_on_demand_fetches_a_partition_only_while_something_needs_it_and_never_what_its_owner_advanced_past()
    {
        _cluster.CreateTopic("on-demand", 2, 3);
        await ProduceAsync("on-demand", 0, "before-start");
        using var follower = Follower("on-demand", s => s with { ReadOnDemand = true });
        await follower.StartAsync(CancellationToken.None);
        Assert.False(follower.IsReading(0));
        Assert.False(follower.IsReading(1));

        // The owner wrote offsets 1 and 2 and applied them itself: they count as read, unfetched.
        await ProduceAsync("on-demand", 0, "own-1");
        var own2 = await ProduceAsync("on-demand", 0, "own-2");
        follower.Advance(0, own2.Offset.Value + 1);
        await follower.WaitUntilReadAsync(0, own2.Offset.Value, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal([own2.Offset.Value + 1, 0L], follower.Positions());

        // Someone else writes, then the owner waits for a later offset: the partition is read from
        // the position (the other's record), not from the start, and stops once nothing waits.
        var other = await ProduceAsync("on-demand", 0, "other");
        var wait = follower.WaitUntilReadAsync(0, other.Offset.Value, CancellationToken.None);
        await wait.WaitAsync(TimeSpan.FromSeconds(20));
        await Until(() => !follower.IsReading(0));

        // Wanting a partition reads what arrives there until the want expires.
        follower.Want(1, TimeSpan.FromSeconds(30));
        Assert.True(follower.IsReading(1));
        await ProduceAsync("on-demand", 1, "wanted");
        await Until(() => { lock (_gate) { return _applied.Any(a => a.Value == "wanted"); } });

        lock (_gate)
        {
            Assert.Equal(["before-start", "other", "wanted"], _applied.Select(a => a.Value));
        }
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 20 s");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_single_partition_log_is_partition_0_alone_and_extra_partitions_are_warned_about_once()
    {
        _cluster.CreateTopic("log-4", 4, 3);
        await ProduceAsync("log-4", 0, "in-the-log");
        await ProduceAsync("log-4", 3, "elsewhere");
        using var follower = Follower("log-4", s => s with { SinglePartition = true });

        var ends = await follower.StartAsync(CancellationToken.None);

        Assert.Equal(1, follower.Partitions);
        Assert.Equal([1L], ends);
        lock (_gate)
        {
            Assert.Equal([(0, "in-the-log")], _applied);
        }

        Assert.Single(_logger.Entries, e => e.Id.Id == 1122 && e.Level == LogLevel.Warning && e.Text.Contains("log-4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_topic_that_never_appears_fails_the_start_with_its_name_and_is_not_auto_created()
    {
        using var follower = Follower("never-created", s => s with { ReadyTimeout = TimeSpan.FromSeconds(1) });

        var failure = await Assert.ThrowsAsync<TopicFollowerException>(() => follower.StartAsync(CancellationToken.None));

        Assert.Equal("never-created", failure.Topic);
        Assert.Contains("'never-created' is not readable after 1 s", failure.Message, StringComparison.Ordinal);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(5)).Topics, t => t.Topic == "never-created");
    }

    [Fact]
    public async Task An_authorization_failure_stops_the_follower_fails_its_waiters_and_tells_the_owner_once()
    {
        _cluster.CreateTopic("guarded", 1, 3);
        using var follower = Follower("guarded");
        await follower.StartAsync(CancellationToken.None);
        var waiting = follower.WaitUntilReadAsync(0, 0, CancellationToken.None);

        _cluster.PushRequestErrors(KafkaApiKey.Fetch, [.. Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 20)]);

        var fatal = await _fatal.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("guarded", fatal.Topic);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, fatal.KafkaError.Code);
        var failed = await Assert.ThrowsAsync<TopicFollowerException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Same(fatal, failed);
        await Assert.ThrowsAsync<TopicFollowerException>(() => follower.WaitUntilReadAsync(0, 5, CancellationToken.None));
        Assert.Same(fatal, follower.Failure);
        Assert.Single(_logger.Entries, e => e.Level == LogLevel.Critical && e.Id.Id == 1121
            && e.Text.Contains("guarded", StringComparison.Ordinal) && e.Text.Contains("TopicAuthorizationFailed", StringComparison.Ordinal));
        _cluster.ClearRequestErrors(KafkaApiKey.Fetch);
    }

    [Fact]
    public async Task Transient_errors_are_retried_and_logged_at_a_bounded_rate()
    {
        _cluster.CreateTopic("flaky", 1, 3);
        using var follower = Follower("flaky", s => s with { ErrorLogInterval = TimeSpan.FromHours(1) });
        await follower.StartAsync(CancellationToken.None);

        _cluster.SetAllBrokersDown();
        try
        {
            await WaitUntilAsync(() => _logger.Entries.Any(e => e.Id.Id == 1120), TimeSpan.FromSeconds(30));
        }
        finally
        {
            _cluster.SetAllBrokersUp();
        }

        var written = await ProduceAsync("flaky", 0, "after the outage");
        await follower.WaitUntilReadAsync(0, written.Offset.Value, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(follower.Failure);
        Assert.False(_fatal.Task.IsCompleted);
        Assert.Single(_logger.Entries, e => e.Id.Id == 1120 && e.Level == LogLevel.Warning && e.Text.Contains("flaky", StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData(ErrorCode.TopicAuthorizationFailed, TopicReadErrorKind.Fatal)]
    [InlineData(ErrorCode.ClusterAuthorizationFailed, TopicReadErrorKind.Fatal)]
    [InlineData(ErrorCode.Local_Fatal, TopicReadErrorKind.Fatal)]
    [InlineData(ErrorCode.UnknownTopicOrPart, TopicReadErrorKind.FatalIfPersistent)]
    [InlineData(ErrorCode.Local_UnknownPartition, TopicReadErrorKind.FatalIfPersistent)]
    [InlineData(ErrorCode.Local_Authentication, TopicReadErrorKind.FatalIfPersistent)]
    [InlineData(ErrorCode.Local_Transport, TopicReadErrorKind.Transient)]
    [InlineData(ErrorCode.Local_AllBrokersDown, TopicReadErrorKind.Transient)]
    [InlineData(ErrorCode.NotLeaderForPartition, TopicReadErrorKind.Transient)]
    [InlineData(ErrorCode.Local_TimedOut, TopicReadErrorKind.Transient)]
    public void Errors_are_classified_by_whether_waiting_can_fix_them(ErrorCode code, TopicReadErrorKind expected) =>
        Assert.Equal(expected, TopicFollower.Classify(new Error(code)));

    [Fact]
    public void A_fatal_client_error_is_fatal_whatever_its_code() =>
        Assert.Equal(TopicReadErrorKind.Fatal, TopicFollower.Classify(new Error(ErrorCode.Local_Transport, "fenced", isFatal: true)));

    public void Dispose() => _cluster.Dispose();
}
