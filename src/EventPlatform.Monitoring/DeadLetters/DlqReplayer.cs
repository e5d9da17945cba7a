using System.Text;
using Confluent.Kafka;

namespace EventPlatform.Monitoring.DeadLetters;

/// <summary>
/// Sends DLQ messages back to their source topic (same partition, original bytes) once their cause
/// is fixed, at most once per DLQ record however often it is run or wherever it crashes.
/// </summary>
/// <remarks>
/// Why this holds: each replayed message and its entry in the replay log (a topic keyed by the DLQ
/// record's coordinates) are written in one Kafka transaction, so either both are committed or
/// neither is. A run first reads the log (committed entries only) and skips what it names. The
/// producer's transactional id is fixed, so a run after a crash fences the crashed one and its
/// open transaction is aborted: its records never become visible to read_committed readers (the
/// platform's consumers). Crash points: before a commit, nothing of that batch counts and the next
/// run replays it; after a commit, the log names the batch and the next run skips it.
/// Not for concurrent runs on the same DLQ: the later one fences the earlier, which then stops.
/// </remarks>
public sealed class DlqReplayer(ClientConfig client, DlqReplayOptions options)
{
    /// <summary>The header naming the DLQ record a replayed message came from.</summary>
    public const string ReplayHeader = "dlq-replay-of";

    /// <summary>A test hook: throws after this many messages were produced in an open transaction, as a crash would stop the run there.</summary>
    public int? CrashAfterProduced { get; init; }

    /// <summary>Replays the messages of <paramref name="entries"/> that <paramref name="filter"/> selects and the log does not name.</summary>
    public DlqReplayResult Replay(IReadOnlyList<DlqEntry> entries, DlqFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(filter);
        var replayed = DlqTopicReader.ReadAll(client, options.ReplayLogTopic, options.Timeout, cancellationToken)
            .Where(r => r.Message.Key is not null)
            .Select(r => Encoding.UTF8.GetString(r.Message.Key!))
            .ToHashSet(StringComparer.Ordinal);
        var selected = entries.Where(filter.Matches).ToList();
        replayed.UnionWith(ReplaysInSourceTopics(selected.Where(e => !replayed.Contains(e.Coordinates)), cancellationToken));
        var toReplay = selected.Where(e => !replayed.Contains(e.Coordinates)).ToList();
        if (toReplay.Count == 0)
        {
            return new DlqReplayResult(selected.Count, 0);
        }

        var config = new ProducerConfig(new Dictionary<string, string>(client))
        {
            TransactionalId = options.TransactionalId,
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).Build();
        producer.InitTransactions(options.Timeout);
        var produced = 0;
        foreach (var batch in toReplay.Chunk(options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            producer.BeginTransaction();
            foreach (var entry in batch)
            {
                var message = entry.Message!;
                var coordinates = Encoding.UTF8.GetBytes(entry.Coordinates);
                producer.Produce(new TopicPartition(message.SourceTopic, message.SourcePartition), new Message<byte[]?, byte[]>
                {
                    Key = null,
                    Value = message.OriginalMessage,
                    Headers = [new Header(ReplayHeader, coordinates)],
                });
                produced++;
                if (produced == CrashAfterProduced)
                {
                    producer.Flush(options.Timeout);
                    throw new DlqReplayCrashException(produced);
                }

                producer.Produce(options.ReplayLogTopic, new Message<byte[]?, byte[]>
                {
                    Key = coordinates,
                    Value = Encoding.UTF8.GetBytes($"{message.SourceTopic}|{message.SourcePartition}|{message.SourceOffset}"),
                });
            }

            producer.CommitTransaction(options.Timeout);
        }

        return new DlqReplayResult(selected.Count, toReplay.Count);
    }
    /// <summary>
    /// The replays already visible in the source topics, by their header: the ground truth when the
    /// log lacks one. Kafka aborts a crashed run's open transaction when the next run fences it,
    /// so there this finds nothing the log does not name; a broker that leaves such records
    /// visible (librdkafka's mock cluster, the embedded broker) delivered them, and they must not
    /// be replayed again. Replays follow their original, so each partition is read from the
    /// oldest selected message's offset.
    /// </summary>
    private IEnumerable<string> ReplaysInSourceTopics(IEnumerable<DlqEntry> candidates, CancellationToken cancellationToken)
    {
        foreach (var topic in candidates.Select(e => e.Message!).GroupBy(m => m.SourceTopic, StringComparer.Ordinal))
        {
            var starts = topic.GroupBy(m => m.SourcePartition).ToDictionary(p => p.Key, p => p.Min(m => m.SourceOffset));
            foreach (var record in DlqTopicReader.ReadFrom(client, topic.Key, starts, options.Timeout, cancellationToken))
            {
                if (record.Message.Headers?.TryGetLastBytes(ReplayHeader, out var origin) == true)
                {
                    yield return Encoding.UTF8.GetString(origin);
                }
            }
        }
    }
}

/// <param name="ReplayLogTopic">Where replays are recorded (compacted; created on first use); default <c>{dlq}.replayed</c>.</param>
/// <param name="TransactionalId">Fixed per DLQ, so a new run fences a crashed one.</param>
public sealed record DlqReplayOptions(string ReplayLogTopic, string TransactionalId, TimeSpan Timeout, int BatchSize = 100)
{
    public static DlqReplayOptions For(string dlqTopic, TimeSpan timeout) =>
        new(dlqTopic + ".replayed", "eventplatform-dlq-replay-" + dlqTopic, timeout);
}

/// <param name="Selected">DLQ messages the filter selected.</param>
/// <param name="Replayed">Of those, replayed by this run (the others were replayed before).</param>
public sealed record DlqReplayResult(int Selected, int Replayed);

/// <summary>The test hook's crash: the run stops with a transaction open.</summary>
public sealed class DlqReplayCrashException(int produced) : Exception($"Simulated crash after {produced} replayed messages, transaction open.");
