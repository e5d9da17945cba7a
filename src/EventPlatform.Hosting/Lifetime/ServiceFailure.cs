using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Lifetime;

/// <summary>
/// Stops a running service when one of its parts fails for good (a <see cref="TopicFollower"/>
/// that cannot follow its topic, later the stream processor's or the sink's readers), and keeps the
/// exit code its command returns. The first failure wins; later ones only log.
/// </summary>
/// <remarks>
/// Serving on after such a failure would break a promise silently (an idempotency key forgotten, a
/// schema id handed out twice); stopping with a non-zero exit code lets the supervisor (systemd,
/// ECS, Kubernetes) restart it and shows the cause. Thread-safe; one per host.
/// </remarks>
public sealed partial class ServiceFailure(IHostApplicationLifetime lifetime, ILogger<ServiceFailure> logger)
{
    private int _exitCode;
    private string? _reason;

    /// <summary>The exit code the service's command returns: 0 unless <see cref="Stop"/> was called.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    /// <summary>Why the service stopped, if it did.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Logs <paramref name="reason"/> and stops the service, which then exits with <paramref name="exitCode"/>.</summary>
    public void Stop(string reason, int exitCode = ExitCodes.DependencyFailed)
    {
        ArgumentOutOfRangeException.ThrowIfZero(exitCode);
        if (Interlocked.CompareExchange(ref _exitCode, exitCode, 0) != 0)
        {
            LogAlsoFailed(logger, reason);
            return;
        }

        Volatile.Write(ref _reason, reason);
        LogStopping(logger, reason, exitCode);
        lifetime.StopApplication();
    }

    /// <summary>The <c>onFatal</c> of a <see cref="TopicFollower"/>: stop the service because its state topic failed.</summary>
    public void StateTopicFailed(TopicFollowerException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        Stop(failure.Message);
    }

    [LoggerMessage(EventId = 1140, Level = LogLevel.Critical, Message = "Stopping the service (exit code {ExitCode}): {Reason}")]
    private static partial void LogStopping(ILogger logger, string reason, int exitCode);

    [LoggerMessage(EventId = 1141, Level = LogLevel.Error, Message = "Another part failed while the service was stopping: {Reason}")]
    private static partial void LogAlsoFailed(ILogger logger, string reason);
}
