using Confluent.Kafka;
using EventPlatform.Hosting.Health;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Processor.Job;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventPlatform.Processor.Service;

/// <summary>
/// Readiness of the checkpoint store: with the data directory, a probe file is written and removed
/// there (a full disk, a read-only mount or lost permissions show); with the Kafka store, the
/// checkpoint topic is looked up in the cluster's metadata (it must exist with a leader for every
/// partition once the job has created it). Cached for two seconds, bounded by two.
/// </summary>
public sealed class CheckpointStoreHealthCheck : CachedHealthCheck, IDisposable
{
    private readonly ProcessorOptions _options;
    private readonly ProcessorDataDirectory _directory;
    private readonly ProcessorState _state;
    private readonly Lazy<IAdminClient> _admin;

    /// <summary>A check of the configured store; the Kafka lookup goes through the service's producer connection.</summary>
    public CheckpointStoreHealthCheck(
        IOptions<ProcessorOptions> options,
        ProcessorDataDirectory directory,
        ProcessorState state,
        IProducer<byte[]?, byte[]> producer,
        TimeProvider time)
        : base(time, cacheFor: TimeSpan.FromSeconds(2))
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(producer);
        _options = options.Value;
        _directory = directory;
        _state = state;
        _admin = new Lazy<IAdminClient>(() => new DependentAdminClientBuilder(producer.Handle).Build());
    }

    /// <summary>The checkpoint topic of the Kafka store (the engine's default name when not configured).</summary>
    public string CheckpointTopic => _options.CheckpointTopic ?? _options.JobName + "-checkpoints";

    /// <inheritdoc />
    protected override Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken) =>
        _options.CheckpointStore == ProcessorCheckpointStore.DataDirectory
            ? Task.FromResult(ProbeDirectory())
            : Task.Run(() => ProbeTopic(cancellationToken), cancellationToken);

    private HealthCheckResult ProbeDirectory()
    {
        var probe = Path.Combine(_directory.Path, $".ready-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(_directory.Path);
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return HealthCheckResult.Healthy($"data directory {_directory.Path} writable");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"data directory {_directory.Path} is not writable: {e.Message}");
        }
    }

    private HealthCheckResult ProbeTopic(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var topic = CheckpointTopic;
        Metadata metadata;
        try
        {
            // All topics rather than this one: a request naming a topic may auto-create it, uncompacted.
            metadata = _admin.Value.GetMetadata(Timeout);
        }
        catch (KafkaException e)
        {
            return HealthCheckResult.Unhealthy($"checkpoint topic {topic}: Kafka does not answer: {e.Error.Reason}");
        }

        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
            // Before the job first runs, the store has not created its topic yet.
            return _state.IsRunning
                ? HealthCheckResult.Unhealthy($"checkpoint topic {topic} does not exist")
                : HealthCheckResult.Healthy($"checkpoint topic {topic} not created yet (the job creates it)");
        }

        if (found.Error.Code != ErrorCode.NoError)
        {
            return HealthCheckResult.Unhealthy($"checkpoint topic {topic}: {found.Error.Reason}");
        }

        var leaderless = found.Partitions.Count(p => p.Leader < 0);
        return leaderless == 0
            ? HealthCheckResult.Healthy($"checkpoint topic {topic} ({found.Partitions.Count} partitions) has leaders")
            : HealthCheckResult.Unhealthy($"checkpoint topic {topic}: {leaderless} of {found.Partitions.Count} partitions have no leader");
    }

    /// <summary>Disposes the admin client, if one was made.</summary>
    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}
