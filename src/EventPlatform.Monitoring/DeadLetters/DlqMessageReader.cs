using System.Text.Json;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;

namespace EventPlatform.Monitoring.DeadLetters;

/// <summary>
/// Reads the value of a DLQ record as a <see cref="DlqMessage"/>, or says why it cannot: anyone who
/// can write to the topic can put anything there (random bytes, text that is not UTF-8, JSON nested
/// past the parser's depth limit, a message with fields missing or a source no replay could reach).
/// Such a record is reported as unreadable by the DLQ tools; it never stops them.
/// </summary>
/// <remarks>Pure and thread-safe. Nesting is bounded by System.Text.Json's default depth (64), so no input can overflow the stack.</remarks>
public static class DlqMessageReader
{
    /// <summary>The longest Kafka topic name.</summary>
    private const int MaxTopicLength = 249;

    /// <summary>Parses <paramref name="value"/>; returns the message, or null with <paramref name="problem"/> saying why.</summary>
    public static DlqMessage? Read(byte[]? value, out string? problem)
    {
        if (value is null)
        {
            problem = "the record has no value (a tombstone)";
            return null;
        }

        DlqMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(value, CoreJsonContext.Api.DlqMessage);
        }
        catch (JsonException e)
        {
            problem = "not a DLQ message: " + e.Message;
            return null;
        }
        catch (NotSupportedException e)
        {
            problem = "not a DLQ message: " + e.Message;
            return null;
        }

        problem = message is null ? "not a DLQ message: the value is JSON null" : Check(message);
        return problem is null ? message : null;
    }

    /// <summary>What makes a parsed message unusable (a field missing, a source no replay could write to); null when it is usable.</summary>
    private static string? Check(DlqMessage m)
    {
        // The record's constructor parameters are not nullable, but JSON without them still binds (to null).
        if (m.OriginalMessage is null || m.ErrorType is null || m.ErrorMessage is null || m.SourceTopic is null)
        {
            return "not a DLQ message: original_message, error_type, error_message or source_topic is missing";
        }

        if (!IsTopicName(m.SourceTopic))
        {
            return "source_topic is not a Kafka topic name";
        }

        if (m.SourcePartition < 0 || m.SourceOffset < 0 || m.RetryCount < 0)
        {
            return "source_partition, source_offset or retry_count is negative";
        }

        return null;
    }

    private static bool IsTopicName(string name) =>
        name.Length is > 0 and <= MaxTopicLength && name is not "." and not ".."
        && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');
}
