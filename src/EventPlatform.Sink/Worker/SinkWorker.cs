using Confluent.Kafka;
using EventPlatform.Core.Resilience;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Clusters;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Sink.Buffering;
using EventPlatform.Sink.Configuration;
using EventPlatform.Sink.Destinations;
using EventPlatform.Sink.Transformation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Sink.Worker;

/// <summary>
/// The sink as a hosted service: resolves the connector configuration, creates the warehouse's
/// tables, learns the Kafka cluster's id, and runs <c>tasks.max</c> <see cref="SinkTask"/>s in the
/// connector's consumer group (more instances, more members: partitions spread over them all).
/// Stopping flushes every partition's buffer before the consumers leave the group.
/// </summary>
public sealed class SinkWorker(
    SinkConnectorConfig connector,
    IOptions<SinkOptions> options,
    IOptions<KafkaOptions> kafka,
    SinkTransformer transformer,
    IWarehouseDestination destination,
    IProducer<byte[]?, byte[]> producer,
    SinkMetrics metrics,
    ServiceFailure failure,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService
{
    private readonly List<SinkTask> _tasks = [];
    private readonly ILogger _logger = loggers.CreateLogger("EventPlatform.Sink");

    /// <summary>The running tasks (for tests and readiness).</summary>
    public IReadOnlyList<SinkTask> Tasks => _tasks;

    /// <summary>The id the warehouse's offsets are tagged with.</summary>
    public string? ClusterId { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await destination.EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        SinkLog.ConnectorConfigured(_logger, connector.Name, string.Join(",", connector.Topics), connector.BufferCountRecords, connector.BufferSizeBytes,
            connector.BufferFlushTime, connector.TasksMax, destination is DuckDbDestination duck ? duck.Path : destination.Name);

        // The producer's metadata carries the cluster's id; reading it blocks, so off the caller's thread.
        var clusterId = await Task.Run(() => KafkaClusterId.TryGet(producer.Handle, settings.ClusterIdTimeout), cancellationToken).ConfigureAwait(false);
        if (clusterId is null)
        {
            clusterId = settings.FallbackClusterId ?? "unknown-cluster";
            SinkLog.NoClusterId(_logger, settings.ClusterIdTimeout, clusterId);
        }

        ClusterId = clusterId;
        var policy = new FlushPolicy(connector.BufferCountRecords, connector.BufferSizeBytes, connector.BufferFlushTime);
        var backoff = new ExponentialBackoff(settings.RetryBaseDelay, settings.RetryMaxDelay);
        var kafkaOptions = kafka.Value;
        for (var i = 0; i < connector.TasksMax; i++)
        {
            var config = KafkaClientConfig.ForConsumer(kafkaOptions, $"{connector.Name}-task-{i}", kafkaOptions.BootstrapServers!, connector.GroupId);
            var task = new SinkTask(
                new SinkTaskSettings(i, config, connector.Topics, policy, backoff, settings.MaxAttempts, clusterId),
                transformer, destination, producer, metrics, time, _logger,
                e => failure.Stop($"Sink task failed: {e.Message}"));
            _tasks.Add(task);
            task.Start(CancellationToken.None);
            SinkLog.TaskStarted(_logger, i, string.Join(",", connector.Topics), connector.GroupId, clusterId, destination.Name);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_tasks.Select(t => t.StopAsync())).WaitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var task in _tasks)
        {
            await task.DisposeAsync().ConfigureAwait(false);
        }
    }
}
