using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Monitoring;

/// <summary>
/// The poll loop: reads the cluster every <see cref="MonitorOptions.PollInterval"/>, computes the
/// figures and publishes them for the scrapes. A poll that fails publishes
/// <see cref="ExporterSnapshot.Unreachable"/> (<c>kafka_brokers 0</c>) and makes readiness false.
/// </summary>
public sealed partial class KafkaExporterService(
    KafkaClusterReader reader,
    KafkaExporterMetrics metrics,
    IOptions<MonitorOptions> options,
    TimeProvider time,
    ILogger<KafkaExporterService> logger) : BackgroundService
{
    private readonly KafkaLagCalculator _calculator = new(options.Value.RateWindow, options.Value.DlqTopic, options.Value.PipelineStages);
    private volatile PollOutcome? _last;

    /// <summary>The last poll's outcome; null before the first one ends.</summary>
    public PollOutcome? LastPoll => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // librdkafka's calls block: the loop runs on its own thread, never on a request's.
        await Task.Yield();
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        do
        {
            await PollOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One poll: read, compute, publish.</summary>
    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reading = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            metrics.Publish(_calculator.Add(reading));
            if (_last is { Succeeded: false })
            {
                LogReachable(logger, reading.Brokers);
            }

            _last = new PollOutcome(reading.At, true, null);
        }
        catch (KafkaException ex)
        {
            var at = time.GetUtcNow();
            metrics.Publish(ExporterSnapshot.Unreachable(at));
            if (_last is not { Succeeded: false })
            {
                LogUnreachable(logger, ex.Error.Reason);
            }

            _last = new PollOutcome(at, false, ex.Error.Reason);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 7111, Level = LogLevel.Warning, Message = "Kafka does not answer the exporter: {Reason}; kafka_brokers is 0 until it does")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(EventId = 7112, Level = LogLevel.Information, Message = "Kafka answers the exporter again ({Brokers} brokers)")]
    private static partial void LogReachable(ILogger logger, int brokers);
}

/// <summary>How a poll ended.</summary>
public sealed record PollOutcome(DateTimeOffset At, bool Succeeded, string? Error);
