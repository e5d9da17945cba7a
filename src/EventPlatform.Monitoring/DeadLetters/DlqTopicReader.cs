using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;

namespace EventPlatform.Monitoring.DeadLetters;

/// <summary>
/// Reads a topic from its oldest record to its end as of now, without a consumer group's offsets
/// (nothing is committed: reading the DLQ never changes what another reader sees). Committed
/// transactions only, so a replay that crashed before its commit is invisible.
/// </summary>
public static class DlqTopicReader
{
    public static List<DlqEntry> ReadDlq(ClientConfig client, string topic, TimeSpan timeout, CancellationToken cancellationToken) =>
        [.. ReadAll(client, topic, timeout, cancellationToken).Select(r => new DlqEntry(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Timestamp.UtcDateTime, Parse(r.Message.Value)))];

    /// <summary>Every committed record of <paramref name="topic"/>; none when the topic does not exist.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(ClientConfig client, string topic, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadFrom(client, topic, null, timeout, cancellationToken);

    /// <summary>
    /// The committed records of <paramref name="topic"/> from <paramref name="startOffsets"/> (partition → first offset;
    /// partitions not named are skipped), or of every partition from its start when null.
    /// </summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadFrom(ClientConfig client, string topic, IReadOnlyDictionary<int, long>? startOffsets, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(client))
        {
            GroupId = "eventplatform-dlq-reader",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = IsolationLevel.ReadCommitted,
            AllowAutoCreateTopics = false,
        };
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(client))).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.Code != ErrorCode.NoError || metadata.Partitions.Count == 0)
        {
            return [];
        }

        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        var pending = metadata.Partitions.Where(p => startOffsets is null || startOffsets.ContainsKey(p.PartitionId))
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToHashSet();
        if (pending.Count == 0)
        {
            return [];
        }

        consumer.Assign(pending.Select(tp => new TopicPartitionOffset(tp, startOffsets is null ? Offset.Beginning : new Offset(startOffsets[tp.Partition.Value]))));
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{topic}' was not read to its end within {timeout.TotalSeconds:0} s.");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                pending.Remove(result.TopicPartition);
            }
            else
            {
                records.Add(result);
            }
        }

        consumer.Close();
        return records;
    }

    private static DlqMessage? Parse(byte[]? value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(value, CoreJsonContext.Api.DlqMessage);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
