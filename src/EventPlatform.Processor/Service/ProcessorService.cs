using System.Diagnostics.Metrics;
using Confluent.SchemaRegistry;
using EventPlatform.Core.Events;
using EventPlatform.Core.Resilience;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Topics;
using EventPlatform.Processor.Enrichment;
using EventPlatform.Processor.Input;
using EventPlatform.Processor.Job;
using EventPlatform.Processor.Output;
using EventPlatform.Schemas.Client;
using EventPlatform.Streaming.Runtime;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.Time;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Processor.Service;

/// <summary>
/// Runs the default job: registers the <c>events.aggregated</c> schema (retrying while the registry
/// does not answer, readiness saying so), then runs the job on a <see cref="KafkaJobRunner"/> with
/// checkpoints in the data directory. When the job stops on a failure (an unreachable registry past
/// the patience, a producer failure) it is restarted from its last checkpoint after a backoff. On
/// shutdown the job stops cleanly with a final checkpoint.
/// </summary>
public sealed partial class ProcessorService(
    IOptions<ProcessorOptions> options,
    IOptions<KafkaOptions> kafka,
    ReadingExtractor readings,
    SchemaCache schemas,
    ProcessorMetrics metrics,
    ProcessorState state,
    ProcessorDataDirectory dataDirectory,
    TimeProvider time,
    IMeterFactory meters,
    ITopicProvisioner topics,
    ILoggerFactory loggers) : BackgroundService
{
    private static readonly ExponentialBackoff RestartBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    private readonly ILogger _logger = loggers.CreateLogger<ProcessorService>();

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var schemaId = await RegisterOutputSchemaAsync(stoppingToken).ConfigureAwait(false);
            var classifier = new EventClassifier(new SchemaCacheLookup(schemas), new EventTimeBounds(time, EventTimeBounds.DefaultMaxAhead));
            var processing = new RecordProcessing(classifier, new EventEnricher(readings, time), settings, time, metrics, stoppingToken, loggers.CreateLogger<RecordProcessing>());
            var job = DefaultJob.Create(settings, processing, new AggregatedEventEncoder(schemaId), time, metrics, loggers.CreateLogger<RecordProcessing>());
            var runnerOptions = new KafkaJobOptions
            {
                BootstrapServers = kafka.Value.BootstrapServers!,
                Kafka = kafka.Value,
                CheckpointInterval = settings.CheckpointInterval,
                ProducerLinger = settings.ProducerLinger,
                ThreadNiceness = settings.ThreadNiceness,
                Watermarks = new WatermarkOptions
                {
                    MaxOutOfOrderness = settings.MaxOutOfOrderness,
                    IdleTimeout = settings.IdleTimeout,
                    StreamIdleTimeout = settings.StreamIdleTimeout,
                },
                ScaleOut = settings.ScaleOut ? new ScaleOutOptions { RepartitionPartitions = settings.RepartitionPartitions, MaxRepartitionLag = settings.MaxRepartitionLag, LocalWhenAlone = settings.LocalWhenAlone } : null,
            };
            var store = CreateCheckpointStore(settings, job.Name);
            using var storeLifetime = store as IDisposable;
            using var runner = new KafkaJobRunner(job, runnerOptions, store, loggers.CreateLogger<KafkaJobRunner>(), time, meters);
            metrics.CheckpointsWritten = () => runner.CheckpointsWritten;
            try
            {
                // Start blocks while it reads the cluster id and, after a crash, while the transaction
                // coordinator fences the killed producer: on a thread of its own, off the host's startup
                // path and off the thread pool that serves /health and /metrics.
                await Task.Factory.StartNew(() => runner.Start(CancellationToken.None), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                state.JobFailed(e.Message);
                LogStartFailed(_logger, e);
                await DelayAsync(RestartBackoff.Delay(failures++), stoppingToken).ConfigureAwait(false);
                continue;
            }

            state.JobRunning(job.Name);
            LogRunning(_logger, job.Name, schemaId, string.Join(", ", job.SourceTopics));
            await Task.WhenAny(runner.Completion, Task.Delay(Timeout.Infinite, stoppingToken)).ConfigureAwait(false);
            if (stoppingToken.IsCancellationRequested)
            {
                await runner.StopAsync().ConfigureAwait(false);
                LogStopped(_logger, job.Name, runner.CheckpointsWritten);
                return;
            }

            var reason = runner.Failure?.Message ?? "the consume loop ended";
            state.JobFailed(reason);
            metrics.Restarted();
            var delay = RestartBackoff.Delay(failures++);
            LogRestarting(_logger, job.Name, reason, delay);
            await DelayAsync(delay, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Registers the output schema (idempotent: a registered schema keeps its id), retrying until the registry answers.</summary>
    private async Task<int> RegisterOutputSchemaAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var id = await schemas.Client.RegisterSchemaAsync(AggregatedEventSchema.Subject, new Schema(AggregatedEventSchema.Avro, SchemaType.Avro))
                    .WaitAsync(TimeSpan.FromSeconds(10), stoppingToken).ConfigureAwait(false);
                state.SchemaRegistered(id);
                return id;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                var problem = $"registering {AggregatedEventSchema.Subject} at {schemas.Client.Config.FirstOrDefault(c => c.Key == "schema.registry.url").Value} failed: {e.Message}";
                state.RegistryFailed(problem);
                var delay = RestartBackoff.Delay(Math.Min(attempt, 4));
                LogRegistrationFailed(_logger, problem, delay);
                await DelayAsync(delay, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken stoppingToken) => Task.Delay(delay, time, stoppingToken);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Processor job {Job} running (events.aggregated schema id {SchemaId}) on {Topics}")]
    private static partial void LogRunning(ILogger logger, string job, int schemaId, string topics);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Processor job {Job} stopped on a failure ({Reason}); restarting from its last checkpoint in {Delay}")]
    private static partial void LogRestarting(ILogger logger, string job, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Schema registry unreachable: {Problem}; retrying in {Delay}")]
    private static partial void LogRegistrationFailed(ILogger logger, string problem, TimeSpan delay);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "Processor job did not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "Processor job {Job} stopped cleanly after {Checkpoints} checkpoints")]
    private static partial void LogStopped(ILogger logger, string job, int checkpoints);

    /// <summary>The configured checkpoint store (the Kafka one is disposable: it owns two clients).</summary>
    private ICheckpointStore CreateCheckpointStore(ProcessorOptions settings, string jobName)
    {
        if (settings.CheckpointStore == ProcessorCheckpointStore.DataDirectory)
        {
            return FileCheckpointStore.ForJob(dataDirectory.Path, jobName, time);
        }

        var options = kafka.Value;
        // The store's clients get the same security and client settings as every other client here.
        var client = KafkaClientConfig.ForAdmin(options, jobName + "-checkpoints", options.BootstrapServers!);
        var extra = client.Where(p => p.Key is not "bootstrap.servers" && p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return new KafkaCheckpointStore(new KafkaCheckpointStoreOptions
        {
            BootstrapServers = options.BootstrapServers!,
            JobName = jobName,
            Topic = settings.CheckpointTopic,
            Topics = topics,
            ReplicationFactor = options.ReplicationFactor ?? 3,
            Extra = extra,
        }, time);
    }
}

/// <summary>Where the processor keeps its checkpoints.</summary>
/// <param name="Path">The directory.</param>
public sealed record ProcessorDataDirectory(string Path);
