using System.Collections.Concurrent;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Publishing;

/// <summary>
/// Makes the topic of a new event type exist before its first event is written (Property 19).
/// Each topic is created once per process however many requests race for it; a failed creation
/// is tried again by the next request.
/// </summary>
public sealed partial class TopicEnsurer(ITopicProvisioner provisioner, IOptions<GatewayOptions> options, ILogger<TopicEnsurer> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task>> _known = new(StringComparer.Ordinal);

    public Task EnsureAsync(string topic, CancellationToken cancellationToken)
    {
        var entry = _known.GetOrAdd(topic, t => new Lazy<Task>(() => CreateAsync(t)));
        return entry.Value.WaitAsync(cancellationToken);
    }

    private async Task CreateAsync(string topic)
    {
        var o = options.Value;
        var spec = new TopicSpec(topic, o.DynamicTopicPartitions, o.DynamicTopicReplicationFactor, TopicRole.Ingest);
        TopicProvisionOutcome outcome;
        try
        {
            outcome = await provisioner.EnsureTopicAsync(spec, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // Forget the failure so that the next request tries again.
            _known.TryRemove(topic, out _);
            throw;
        }

        if (outcome == TopicProvisionOutcome.Created)
        {
            LogCreated(logger, topic, spec.Partitions);
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Created topic {Topic} ({Partitions} partitions) for a new event type")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions);
}
