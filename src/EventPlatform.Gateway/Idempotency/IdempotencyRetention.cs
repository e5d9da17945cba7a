using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Topics;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>
/// Keeps the idempotency topic's retention at least the window plus its margin: a record deleted
/// sooner could no longer answer a retry. A topic the platform creates has it already; an existing
/// one with a shorter retention is raised where the cluster allows, else a warning says what to set.
/// </summary>
internal static partial class IdempotencyRetention
{
    /// <summary>What was found and done.</summary>
    public enum Outcome
    {
        LongEnough,
        Raised,
        TooShort,
        Unknown,
    }

    public static async Task<Outcome> EnsureAsync(IAdminClient admin, string topic, TimeSpan wanted, TimeSpan timeout, ILogger logger)
    {
        var wantedMs = (long)wanted.TotalMilliseconds;
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        long current;
        try
        {
            var described = await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = timeout }).ConfigureAwait(false);
            var entry = described.SelectMany(d => d.Entries.Values).FirstOrDefault(e => e.Name == TopicConfigs.RetentionMs);
            if (entry is null || !long.TryParse(entry.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out current))
            {
                LogUnknown(logger, topic, "retention.ms was not described", wantedMs);
                return Outcome.Unknown;
            }
        }
        catch (KafkaException e)
        {
            // The embedded broker (librdkafka's mock cluster) has no DescribeConfigs.
            LogUnknown(logger, topic, $"{e.Error.Code} {e.Error.Reason}", wantedMs);
            return Outcome.Unknown;
        }

        if (current < 0 || current >= wantedMs)
        {
            return Outcome.LongEnough;
        }

        try
        {
            var change = new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [new ConfigResource { Type = ResourceType.Topic, Name = topic }] =
                    [new ConfigEntry { Name = TopicConfigs.RetentionMs, Value = wantedMs.ToString(CultureInfo.InvariantCulture), IncrementalOperation = AlterConfigOpType.Set }],
            };
            await admin.IncrementalAlterConfigsAsync(change, new IncrementalAlterConfigsOptions { RequestTimeout = timeout }).ConfigureAwait(false);
            LogRaised(logger, topic, current, wantedMs);
            return Outcome.Raised;
        }
        catch (KafkaException e)
        {
            LogTooShort(logger, topic, current, wantedMs, e.Error.Code, e.Error.Reason);
            return Outcome.TooShort;
        }
    }

    [LoggerMessage(EventId = 2343, Level = LogLevel.Information, Message = "Raised retention.ms of idempotency topic {Topic} from {Current} to {Wanted} (Window + RetentionMargin)")]
    private static partial void LogRaised(ILogger logger, string topic, long current, long wanted);

    [LoggerMessage(EventId = 2344, Level = LogLevel.Warning, Message = "Idempotency topic {Topic} keeps records for retention.ms={Current}, shorter than Window + RetentionMargin, and raising it was refused ({Code} {Reason}): set retention.ms={Wanted} on it, or retries after {Current} ms may publish again")]
    private static partial void LogTooShort(ILogger logger, string topic, long current, long wanted, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2345, Level = LogLevel.Information, Message = "Could not check the retention of idempotency topic {Topic} ({Reason}); it should be at least retention.ms={Wanted}")]
    private static partial void LogUnknown(ILogger logger, string topic, string reason, long wanted);
}
