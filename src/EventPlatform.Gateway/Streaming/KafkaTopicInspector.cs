using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Hosting.Kafka;
using EventPlatform.Kafka.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Streaming;

/// <summary>The offsets of one partition: the first record still held, and the next offset to be written.</summary>
public readonly record struct PartitionWatermarks(int Partition, long Low, long High);

/// <summary>
/// Asks the cluster what a topic holds: its partitions and their watermarks. One admin client
/// for the whole gateway; every call is a request to the brokers (nothing cached), so the answer
/// is the state at the time of the call.
/// </summary>
/// <remarks>
/// Never creates a topic by asking about it (<c>allow.auto.create.topics=false</c>): reading a
/// name that does not exist must not bring it into being. Thread-safe.
/// </remarks>
public sealed class KafkaTopicInspector : IDisposable
{
    private readonly IAdminClient _admin;
    private readonly TimeSpan _timeout;
    private readonly IsolationLevel _isolation;

    public KafkaTopicInspector(IOptions<KafkaOptions> kafka, IOptions<StreamingOptions> streaming, ILogger<KafkaTopicInspector> logger)
    {
        var options = kafka.Value;
        var config = KafkaClientConfig.ForAdmin(options, GatewayServiceCollectionExtensions.KafkaClientId + "-inspector", options.BootstrapServers!);
        config.AllowAutoCreateTopics = false;
        _admin = new AdminClientBuilder(config)
            .SetLogHandler((_, m) => KafkaLogging.OnLog(logger, m))
            .SetErrorHandler((_, e) => KafkaLogging.OnError(logger, e))
            .Build();
        _timeout = options.AdminTimeout < streaming.Value.LatestTimeout ? options.AdminTimeout : streaming.Value.LatestTimeout;
        _isolation = ParseIsolation(options.Consumer.IsolationLevel);
    }

    /// <summary>The isolation level the platform's consumers read with, for offsets that agree with what they see.</summary>
    public IsolationLevel Isolation => _isolation;

    /// <summary>The partition ids of <paramref name="topic"/>, or null when the topic does not exist.</summary>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    public Task<int[]?> GetPartitionsAsync(string topic, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            // GetMetadata blocks; it runs on the pool so that the caller's thread is not held.
            var metadata = _admin.GetMetadata(topic, _timeout).Topics.SingleOrDefault(t => t.Topic == topic);
            if (metadata is null || metadata.Error.Code == ErrorCode.UnknownTopicOrPart)
            {
                return null;
            }

            if (metadata.Error.IsError && metadata.Partitions.Count == 0)
            {
                throw new KafkaException(metadata.Error);
            }

            return metadata.Partitions.Select(p => p.PartitionId).Order().ToArray();
        }, cancellationToken);

    /// <summary>
    /// The low and high watermarks of every partition of <paramref name="topic"/> (the high one is
    /// the last stable offset under read_committed), or null when the topic does not exist.
    /// </summary>
    /// <exception cref="KafkaException">The cluster did not answer.</exception>
    public async Task<PartitionWatermarks[]?> GetWatermarksAsync(string topic, CancellationToken cancellationToken)
    {
        var partitions = await GetPartitionsAsync(topic, cancellationToken).ConfigureAwait(false);
        if (partitions is null)
        {
            return null;
        }

        var earliest = ListAsync(topic, partitions, OffsetSpec.Earliest());
        var latest = ListAsync(topic, partitions, OffsetSpec.Latest());
        var low = await earliest.ConfigureAwait(false);
        var high = await latest.ConfigureAwait(false);
        return [.. partitions.Select(p => new PartitionWatermarks(p, low[p], high[p]))];
    }

    private async Task<Dictionary<int, long>> ListAsync(string topic, int[] partitions, OffsetSpec spec)
    {
        var request = partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(topic, p), OffsetSpec = spec });
        var result = await _admin.ListOffsetsAsync(request, new ListOffsetsOptions { RequestTimeout = _timeout, IsolationLevel = _isolation }).ConfigureAwait(false);
        return result.ResultInfos.ToDictionary(r => r.TopicPartitionOffsetError.Partition.Value, r => r.TopicPartitionOffsetError.Offset.Value);
    }

    internal static IsolationLevel ParseIsolation(string value) =>
        Enum.Parse<IsolationLevel>(value.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);

    public void Dispose() => _admin.Dispose();
}
