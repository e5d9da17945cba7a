using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Topics;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Kafka.Topics;

/// <summary>
/// Creates topics on a Kafka cluster with the Admin API. A topic that exists is left as it is.
/// </summary>
/// <remarks>
/// A cluster without CreateTopics (the embedded broker reached from another process) gets the
/// topic by auto-creation instead: a metadata request that asks for it. Its partition count is
/// then the broker's default, which is logged.
/// </remarks>
public sealed partial class AdminTopicProvisioner(IAdminClient admin, TimeSpan timeout, ILogger<AdminTopicProvisioner> logger) : ITopicProvisioner
{
    public async Task<TopicProvisionOutcome> EnsureTopicAsync(TopicSpec topic, CancellationToken cancellationToken)
    {
        if (Exists(topic.Name))
        {
            return TopicProvisionOutcome.AlreadyExisted;
        }

        try
        {
            await admin.CreateTopicsAsync(
                [new TopicSpecification { Name = topic.Name, NumPartitions = topic.Partitions, ReplicationFactor = topic.ReplicationFactor }],
                new CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout }).WaitAsync(cancellationToken).ConfigureAwait(false);
            LogCreated(logger, topic.Name, topic.Partitions, topic.ReplicationFactor);
            return TopicProvisionOutcome.Created;
        }
        catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists))
        {
            return TopicProvisionOutcome.AlreadyExisted;
        }
        catch (KafkaException ex) when (IsUnsupported(ex))
        {
            LogAutoCreate(logger, topic.Name);
            await AutoCreateAsync(topic.Name, cancellationToken).ConfigureAwait(false);
            return TopicProvisionOutcome.Created;
        }
    }

    private bool Exists(string topic)
    {
        var metadata = admin.GetMetadata(topic, timeout);
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        return found is not null && found.Error.Code == ErrorCode.NoError && found.Partitions.Count > 0;
    }

    private static bool IsUnsupported(KafkaException ex) =>
        ex.Error.Code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion or ErrorCode.InvalidRequest
        || (ex is CreateTopicsException c && c.Results.Any(r => r.Error.Code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion));

    private async Task AutoCreateAsync(string topic, CancellationToken cancellationToken)
    {
        // A metadata request that names a topic asks the broker to auto-create it.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (!deadline.IsCancellationRequested)
        {
            if (Exists(topic))
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        throw new KafkaException(new Error(ErrorCode.UnknownTopicOrPart, $"Topic {topic} could not be created: the cluster has no CreateTopics and did not auto-create it."));
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions, replication factor {ReplicationFactor}")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions, short replicationFactor);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The cluster has no CreateTopics; topic {Topic} is created by auto-creation with the broker's default partition count")]
    private static partial void LogAutoCreate(ILogger logger, string topic);
}
