using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Monitoring.DeadLetters;
using EventPlatform.Testing;

namespace EventPlatform.Monitoring.Tests;

/// <summary>The DLQ tools on the embedded broker: reading with filters, the daily report, and replays that never repeat a message.</summary>
[Trait("Category", "Integration")]
public sealed class DlqToolsTests(EmbeddedKafkaFixture kafka) : IClassFixture<EmbeddedKafkaFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Day = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    private ClientConfig Client => new() { BootstrapServers = kafka.BootstrapServers };

    /// <summary>A DLQ of its own with five messages: three late events and two invalid ones from <paramref name="source"/>, one of them a day later.</summary>
    private async Task<string> DlqWithFiveMessagesAsync(string source)
    {
        var dlq = "dlq-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(dlq, 1, 1);
        kafka.Cluster.CreateTopic(source, 2, 1);
        kafka.Cluster.CreateTopic(DlqReplayOptions.For(dlq, Timeout).ReplayLogTopic, 1, 1);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        for (var i = 0; i < 5; i++)
        {
            var at = Day.AddHours(i) + (i == 4 ? TimeSpan.FromDays(1) : TimeSpan.Zero);
            var original = Encoding.UTF8.GetBytes($"{{\"event_id\":\"evt_{i}\"}}");
            // The original sits in the source topic first, as when the processor dead-lettered it.
            var written = await producer.ProduceAsync(new TopicPartition(source, i % 2), new Message<byte[], byte[]> { Key = [], Value = original });
            var message = new DlqMessage(original, i < 3 ? "LATE_EVENT" : "INVALID_EVENT", $"reason {i}", i, at, at, source, i % 2, written.Offset.Value);
            await producer.ProduceAsync(dlq, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"{i}"), Value = JsonSerializer.SerializeToUtf8Bytes(message, CoreJsonContext.Api.DlqMessage) });
        }

        return dlq;
    }

    [Fact]
    public async Task Messages_are_listed_by_error_type_source_topic_and_time_window_and_reported_by_day()
    {
        var source = "src-" + Guid.NewGuid().ToString("N");
        var dlq = await DlqWithFiveMessagesAsync(source);

        var entries = DlqTopicReader.ReadDlq(Client, dlq, Timeout, CancellationToken.None);

        Assert.Equal(5, entries.Count);
        Assert.Equal(3, entries.Count(new DlqFilter(ErrorType: "late_event").Matches));
        Assert.Equal(0, entries.Count(new DlqFilter(SourceTopic: "elsewhere").Matches));
        Assert.Equal(2, entries.Count(new DlqFilter(Since: Day.AddHours(1), Until: Day.AddHours(3)).Matches));
        var report = DlqReport.Daily(entries, DateOnly.FromDateTime(Day.UtcDateTime));
        Assert.Equal([("LATE_EVENT", 3), ("INVALID_EVENT", 1)], report.Select(l => (l.ErrorType, l.Count)));
        Assert.Equal([source], report[0].SourceTopics);
    }

    [Fact]
    public async Task A_replay_that_crashes_midway_then_runs_twice_puts_each_message_in_its_source_topic_exactly_once()
    {
        var source = "src-" + Guid.NewGuid().ToString("N");
        var dlq = await DlqWithFiveMessagesAsync(source);
        var options = DlqReplayOptions.For(dlq, Timeout) with { BatchSize = 2 };
        var entries = DlqTopicReader.ReadDlq(Client, dlq, Timeout, CancellationToken.None);

        // The first batch (2) is committed; the crash leaves the second open with one message produced.
        var crashing = new DlqReplayer(Client, options) { CrashAfterProduced = 3 };
        Assert.Throws<DlqReplayCrashException>(() => crashing.Replay(entries, new DlqFilter(), CancellationToken.None));

        var afterCrash = new DlqReplayer(Client, options).Replay(entries, new DlqFilter(), CancellationToken.None);
        var again = new DlqReplayer(Client, options).Replay(entries, new DlqFilter(), CancellationToken.None);

        // Real Kafka aborts the crashed transaction when the next run fences it (3 left to replay);
        // the embedded broker (librdkafka's mock) leaves its one produced message visible, which
        // the run finds in the source topic and does not send again (2 left). Either way: once each.
        Assert.Equal(5, afterCrash.Selected);
        Assert.InRange(afterCrash.Replayed, 2, 3);
        Assert.Equal(new DlqReplayResult(5, 0), again);
        var replayed = DlqTopicReader.ReadAll(Client, source, Timeout, CancellationToken.None).Where(r => r.Message.Headers.Count > 0).ToList();
        Assert.Equal(
            entries.Select(e => e.Coordinates).Order(StringComparer.Ordinal),
            replayed.Select(r => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(DlqReplayer.ReplayHeader))).Order(StringComparer.Ordinal));
        Assert.All(replayed, r =>
        {
            var origin = entries.Single(e => e.Coordinates == Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(DlqReplayer.ReplayHeader)));
            Assert.Equal(origin.Message!.SourcePartition, r.Partition.Value);
            Assert.Equal(origin.Message.OriginalMessage, r.Message.Value);
        });
    }

    [Fact]
    public async Task Replaying_one_error_type_leaves_the_others_for_later()
    {
        var source = "src-" + Guid.NewGuid().ToString("N");
        var dlq = await DlqWithFiveMessagesAsync(source);
        var options = DlqReplayOptions.For(dlq, Timeout);
        var entries = DlqTopicReader.ReadDlq(Client, dlq, Timeout, CancellationToken.None);

        var late = new DlqReplayer(Client, options).Replay(entries, new DlqFilter(ErrorType: "LATE_EVENT"), CancellationToken.None);
        var all = new DlqReplayer(Client, options).Replay(entries, new DlqFilter(), CancellationToken.None);

        Assert.Equal(new DlqReplayResult(3, 3), late);
        Assert.Equal(new DlqReplayResult(5, 2), all);
        Assert.Equal(10, DlqTopicReader.ReadAll(Client, source, Timeout, CancellationToken.None).Count);
    }
}
