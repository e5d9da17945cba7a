using System.CommandLine;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EventPlatform.Core.Topics;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Monitoring.DeadLetters;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>dlq list | inspect | report | replay</c>: the seed's manual review of the dead letter topic,
/// its daily report by error type, and reprocessing once a cause is fixed (idempotent: see <see cref="DlqReplayer"/>).
/// </summary>
internal static class DlqCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var command = new Command("dlq", "Review the dead letter topic (KAFKA_BOOTSTRAP_SERVERS): list, inspect, the daily report by error type, replay to the source topic.");
        command.Subcommands.Add(Filtered("list", "One line per DLQ message: coordinates, error type, source, when; then the records that are not DLQ messages.", (entries, unreadable, _, _) =>
        {
            foreach (var e in entries)
            {
                var m = e.Message!;
                Console.WriteLine($"{e.Coordinates,-24} {Printable(m.ErrorType),-20} {m.SourceTopic}[{m.SourcePartition}]@{m.SourceOffset}  {m.LastAttemptTime:O}  retries={m.RetryCount}");
            }

            Console.WriteLine($"{entries.Count} message(s)");
            ReportUnreadable(unreadable);
            return 0;
        }));
        command.Subcommands.Add(Filtered("inspect", "Every field of each DLQ message, the original message as text (or base64 when it is not UTF-8); then the records that are not DLQ messages.", (entries, unreadable, _, _) =>
        {
            foreach (var e in entries)
            {
                var m = e.Message!;
                Console.WriteLine($"== {e.Coordinates}  (dead-lettered {e.Timestamp:O})");
                Console.WriteLine($"error_type:         {Printable(m.ErrorType)}");
                Console.WriteLine($"error_message:      {Printable(m.ErrorMessage)}");
                Console.WriteLine($"retry_count:        {m.RetryCount}");
                Console.WriteLine($"first_attempt_time: {m.FirstAttemptTime:O}");
                Console.WriteLine($"last_attempt_time:  {m.LastAttemptTime:O}");
                Console.WriteLine($"source:             {m.SourceTopic}[{m.SourcePartition}]@{m.SourceOffset}");
                Console.WriteLine($"original_message:   {Text(m.OriginalMessage)}");
            }

            ReportUnreadable(unreadable);
            return 0;
        }));

        var date = new Option<string?>("--date") { Description = "The UTC day (yyyy-MM-dd); today by default." };
        var report = new Command("report", "The seed's daily report: DLQ messages of one day by error type.") { date };
        AddCommon(report, out var topicOption);
        report.SetAction((parse, ct) =>
        {
            var day = parse.GetValue(date) is { } text ? DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture) : DateOnly.FromDateTime(DateTime.UtcNow);
            var (client, topic) = Connect(parse, topicOption);
            var entries = DlqTopicReader.ReadDlq(client, topic, Timeout, ct);
            var lines = DlqReport.Daily(entries, day);
            Console.WriteLine($"DLQ report for {day:yyyy-MM-dd} (UTC), topic {topic}: {lines.Sum(l => l.Count)} message(s)");
            Console.WriteLine($"{"error type",-22} {"count",7}  {"first",-20} {"last",-20} source topics / example");
            foreach (var l in lines)
            {
                Console.WriteLine($"{Printable(l.ErrorType),-22} {l.Count,7}  {l.First:yyyy-MM-ddTHH:mm:ss}  {l.Last:yyyy-MM-ddTHH:mm:ss}  {string.Join(", ", l.SourceTopics)}");
                Console.WriteLine($"{"",31}e.g. {Printable(l.ExampleMessage)}");
            }

            ReportUnreadable([.. entries.Where(e => e.IsUnreadable)]);

            return Task.FromResult(0);
        });
        command.Subcommands.Add(report);

        command.Subcommands.Add(Filtered("replay", "Send the selected DLQ messages back to their source topic and partition, each at most once (a replay log topic, {dlq}.replayed, records them in the same transaction).", (entries, unreadable, dlq, ct) =>
        {
            var (client, topic) = dlq;
            var options = DlqReplayOptions.For(topic, Timeout);
            EnsureReplayLog(client, options.ReplayLogTopic);
            var result = new DlqReplayer(client, options).Replay(entries, new DlqFilter(), ct);
            Console.WriteLine($"{result.Replayed} message(s) replayed; {result.Selected - result.Replayed} of the {result.Selected} selected had been replayed before.");
            ReportUnreadable(unreadable, "not replayed");
            return 0;
        }));
        return command;
    }

    /// <summary>A subcommand over the DLQ messages its filters select.</summary>
    /// <remarks>
    /// Records that are not DLQ messages cannot be matched against the filters; they are handed over
    /// apart (every one of them), so each command reports them rather than skip them silently.
    /// </remarks>
    private static Command Filtered(string name, string description, Func<List<DlqEntry>, List<DlqEntry>, (ClientConfig Client, string Topic), CancellationToken, int> run)
    {
        var errorType = new Option<string?>("--error-type") { Description = "Only this error type (e.g. LATE_EVENT, INVALID_EVENT)." };
        var source = new Option<string?>("--source-topic") { Description = "Only messages from this topic." };
        var since = new Option<string?>("--since") { Description = "Dead-lettered at or after: an ISO time or a duration back from now (2h, 30m, 1d)." };
        var until = new Option<string?>("--until") { Description = "Dead-lettered before: an ISO time or a duration back from now." };
        var command = new Command(name, description) { errorType, source, since, until };
        AddCommon(command, out var topicOption);
        command.SetAction((parse, ct) =>
        {
            var dlq = Connect(parse, topicOption);
            var filter = new DlqFilter(parse.GetValue(errorType), parse.GetValue(source), When(parse.GetValue(since)), When(parse.GetValue(until)));
            var all = DlqTopicReader.ReadDlq(dlq.Client, dlq.Topic, Timeout, ct);
            return Task.FromResult(run([.. all.Where(filter.Matches)], [.. all.Where(e => e.IsUnreadable)], dlq, ct));
        });
        return command;
    }

    private static void AddCommon(Command command, out Option<string> topic)
    {
        topic = new Option<string>("--topic") { Description = "The dead letter topic.", DefaultValueFactory = _ => TopicPlan.DeadLetter };
        command.Options.Add(topic);
    }

    private static (ClientConfig Client, string Topic) Connect(ParseResult parse, Option<string> topicOption)
    {
        var configuration = PlatformSettings.Load();
        var options = configuration.GetSection(KafkaOptions.SectionName).Get<KafkaOptions>() ?? new KafkaOptions();
        var client = KafkaClientConfig.ForAdmin(options, "eventplatform-dlq", options.BootstrapServers ?? "127.0.0.1:9092");
        return (client, parse.GetValue(topicOption) ?? TopicPlan.DeadLetter);
    }

    /// <summary>Creates the compacted replay log if the cluster lets us; otherwise the first replay's produce creates it.</summary>
    private static void EnsureReplayLog(ClientConfig client, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(client))).Build();
        try
        {
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = -1, Configs = new() { ["cleanup.policy"] = "compact" } }])
                .Wait(Timeout);
        }
        catch (AggregateException e) when (e.InnerException is CreateTopicsException or KafkaException)
        {
            // Already there, or a cluster without CreateTopics (the broker command): produce creates it.
        }
    }

    private static DateTimeOffset? When(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        var unit = text[^1];
        var amount = double.Parse(text[..^1], CultureInfo.InvariantCulture);
        var back = unit switch
        {
            'd' => TimeSpan.FromDays(amount),
            'h' => TimeSpan.FromHours(amount),
            'm' => TimeSpan.FromMinutes(amount),
            's' => TimeSpan.FromSeconds(amount),
            _ => throw new FormatException($"'{text}' is neither an ISO time nor a duration such as 2h."),
        };
        return DateTimeOffset.UtcNow - back;
    }

    /// <summary>Lists the records that are not DLQ messages, with why; nothing when there are none.</summary>
    private static void ReportUnreadable(List<DlqEntry> unreadable, string what = "")
    {
        if (unreadable.Count == 0)
        {
            return;
        }

        Console.WriteLine($"{unreadable.Count} unreadable record(s){(what.Length > 0 ? ", " + what : "")} (not DLQ messages):");
        foreach (var e in unreadable)
        {
            Console.WriteLine($"{e.Coordinates,-24} UNREADABLE  {Printable(e.Problem ?? "")}");
        }
    }

    /// <summary>
    /// Text from a record as one printable line: control characters (a terminal's escape sequences,
    /// line breaks that would forge output lines) escaped, and cut at 500 characters.
    /// </summary>
    private static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var cut = text.Length > 500 ? text[..500] : text;
        var builder = new StringBuilder(cut.Length);
        for (var i = 0; i < cut.Length; i++)
        {
            var c = cut[i];
            if (char.IsHighSurrogate(c) && i + 1 < cut.Length && char.IsLowSurrogate(cut[i + 1]))
            {
                builder.Append(c).Append(cut[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return text.Length > 500 ? builder.Append("...").ToString() : builder.ToString();
    }

    private static string Text(byte[] bytes)
    {
        try
        {
            return Printable(new UTF8Encoding(false, true).GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return "base64:" + Convert.ToBase64String(bytes);
        }
    }
}
