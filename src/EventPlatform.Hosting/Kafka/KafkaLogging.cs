using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Kafka;

/// <summary>Routes librdkafka's own log lines and errors into <see cref="ILogger"/>.</summary>
public static partial class KafkaLogging
{
    public static void OnLog(ILogger logger, LogMessage message)
    {
        // librdkafka logs with syslog levels; its info level (6) is chatty (every reconnect).
        // A refused connection is logged by librdkafka as an error; for a client it is a
        // transient condition that the all-brokers-down error and health report already cover.
        var level = message.Facility == "FAIL" ? LogLevel.Information : message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        LogClientMessage(logger, level, message.Name, message.Facility, message.Message);
    }

    public static void OnError(ILogger logger, Error error)
    {
        if (error.IsFatal)
        {
            LogFatal(logger, error.Code, error.Reason);
        }
        else if (error.Code == ErrorCode.Local_Transport)
        {
            LogTransportError(logger, error.Reason);
        }
        else
        {
            LogClientError(logger, error.Code, error.Reason);
        }
    }

    [LoggerMessage(EventId = 1201, Message = "{Client} {Facility}: {Text}")]
    private static partial void LogClientMessage(ILogger logger, LogLevel level, string client, string facility, string text);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Kafka client error {Code}: {Reason}")]
    private static partial void LogClientError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Kafka connection lost or refused: {Reason}")]
    private static partial void LogTransportError(ILogger logger, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Critical, Message = "Fatal Kafka client error {Code}: {Reason}")]
    private static partial void LogFatal(ILogger logger, ErrorCode code, string reason);
}
