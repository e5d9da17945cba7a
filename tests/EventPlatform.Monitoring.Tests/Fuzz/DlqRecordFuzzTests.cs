using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EventPlatform.Core;
using EventPlatform.Core.DeadLetter;
using EventPlatform.Monitoring.DeadLetters;
using EventPlatform.Testing;
using FsCheck.Xunit;

namespace EventPlatform.Monitoring.Tests.Fuzz;

/// <summary>
/// Hostile DLQ records: random bytes, text that is not UTF-8, huge and deeply nested JSON, DLQ
/// messages with fields missing, mistyped or pointing nowhere. Reading never throws: a record is a
/// usable message or unreadable with a reason, and the <c>dlq</c> commands report it as such.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DlqRecordFuzzTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static byte[] Valid(string source = "events.clickstream") => JsonSerializer.SerializeToUtf8Bytes(
        new DlqMessage("{\"event_id\":\"evt_1\"}"u8.ToArray(), "INVALID_EVENT", "bad", 3, At, At, source, 1, 42), CoreJsonContext.Api.DlqMessage);

    /// <summary>Either a message whose fields are all usable, or no message and a reason; never an exception.</summary>
    private static bool ReadsOrExplains(byte[]? value)
    {
        var message = DlqMessageReader.Read(value, out var problem);
        return message is null
            ? !string.IsNullOrEmpty(problem)
            : problem is null && message.OriginalMessage is not null && message.ErrorType is not null && message.ErrorMessage is not null
                && message.SourceTopic is { Length: > 0 } && message.SourcePartition >= 0 && message.SourceOffset >= 0;
    }

    [Property(MaxTest = 500)]
    public bool Random_bytes_read_as_a_message_or_as_unreadable(byte[] bytes) => ReadsOrExplains(bytes);

    [Property(MaxTest = 500)]
    public bool A_valid_message_with_bytes_flipped_reads_as_a_message_or_as_unreadable(int seed)
    {
        var random = new Random(seed);
        var value = Valid();
        for (var i = random.Next(1, 6); i > 0; i--)
        {
            value[random.Next(value.Length)] = (byte)random.Next(256);
        }

        return ReadsOrExplains(value);
    }

    [Property(MaxTest = 300)]
    public bool Fields_replaced_by_hostile_values_read_as_a_message_or_as_unreadable(int seed)
    {
        var random = new Random(seed);
        string[] fields = ["original_message", "error_type", "error_message", "retry_count", "first_attempt_time", "last_attempt_time", "source_topic", "source_partition", "source_offset"];
        string[] hostile =
        [
            "null", "\"\"", "-1", "1e999", "99999999999999999999999", "\"\\ud800\"", "[]", "{}", "true", "\"not base64 !!\"",
            "\"9999-12-31T23:59:59.9999999+00:00\"", "\"0001-01-01T00:00:00-14:00\"", "\"2026-13-45T99:99:99Z\"", "\"../../etc\"",
            "\"" + new string('x', 300) + "\"", new string('[', 200) + new string(']', 200), "\"a\\u0000b\\u001b[31m\"",
        ];
        var json = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Valid())!
            .ToDictionary(p => p.Key, p => p.Value.GetRawText());
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var field = fields[random.Next(fields.Length)];
            if (random.Next(5) == 0)
            {
                json.Remove(field);
            }
            else
            {
                json[field] = hostile[random.Next(hostile.Length)];
            }
        }

        var text = "{" + string.Join(",", json.Select(p => $"\"{p.Key}\":{p.Value}")) + "}";
        return ReadsOrExplains(Encoding.UTF8.GetBytes(text));
    }

    public static IEnumerable<object?[]> HostileValues()
    {
        yield return [null];
        yield return [Array.Empty<byte>()];
        yield return ["null"u8.ToArray()];
        yield return ["{}"u8.ToArray()];
        yield return [new byte[] { 0xC0, 0xAF, 0xFF, 0xFE, 0xED, 0xA0, 0x80 }];
        yield return [Encoding.UTF8.GetBytes(new string('[', 1_000_000))];
        yield return [Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 100_000)))];
        yield return [Encoding.UTF8.GetBytes("{\"error_type\":\"" + new string('x', 4_000_000) + "\"}")];
        yield return [(byte[])[.. "{\"error_type\":\""u8, 0xFF, 0xFE, .. "\"}"u8]];
        yield return [Valid("..")];
        yield return [Valid("")];
        yield return [Valid("topic with spaces")];
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void Hostile_values_are_unreadable_with_a_reason(byte[]? value)
    {
        var message = DlqMessageReader.Read(value, out var problem);

        Assert.Null(message);
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void A_valid_message_reads()
    {
        var message = DlqMessageReader.Read(Valid(), out var problem);

        Assert.Null(problem);
        Assert.Equal("events.clickstream", message!.SourceTopic);
    }
}

/// <summary>The <c>dlq</c> commands, as processes, over a DLQ holding hostile records beside a good one.</summary>
[Collection(MonitorCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Fuzz")]
public sealed class DlqCommandsWithHostileRecordsTests(EmbeddedKafkaFixture kafka)
{
    [Fact]
    public async Task List_inspect_report_and_replay_report_hostile_records_as_unreadable_and_go_on()
    {
        var dlq = "dlq-hostile-" + Guid.NewGuid().ToString("N");
        var source = "src-hostile-" + Guid.NewGuid().ToString("N");
        kafka.Cluster.CreateTopic(dlq, 1, 1);
        kafka.Cluster.CreateTopic(source, 1, 1);
        kafka.Cluster.CreateTopic(dlq + ".replayed", 1, 1);
        var today = DateTimeOffset.UtcNow;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, MessageMaxBytes = 10_000_000 }).Build())
        {
            var original = await producer.ProduceAsync(source, new Message<byte[]?, byte[]?> { Value = "{\"event_id\":\"evt_ok\"}"u8.ToArray() });
            var good = new DlqMessage("{\"event_id\":\"evt_ok\"}"u8.ToArray(), "INVALID_EVENT", "bad\u001b[2J\nforged line", 3, today, today, source, 0, original.Offset.Value);
            byte[]?[] hostile =
            [
                null,
                [0xFF, 0xFE, 0xC0, 0xAF],
                Encoding.UTF8.GetBytes(new string('[', 200_000)),
                "{}"u8.ToArray(),
                Encoding.UTF8.GetBytes("{\"error_type\":\"" + new string('x', 1_000_000) + "\"}"),
                JsonSerializer.SerializeToUtf8Bytes(good with { SourceTopic = "../nowhere" }, CoreJsonContext.Api.DlqMessage),
            ];
            foreach (var value in hostile)
            {
                await producer.ProduceAsync(dlq, new Message<byte[]?, byte[]?>
                {
                    Key = [0xFF, 0x00],
                    Value = value,
                    Headers = [new Header("dlq-replay-of", [0xFF, 0xFE]), new Header("\u0000\u001b", new byte[70_000])],
                    Timestamp = new Timestamp(long.MaxValue / 2, TimestampType.CreateTime),
                });
            }

            await producer.ProduceAsync(dlq, new Message<byte[]?, byte[]?> { Value = JsonSerializer.SerializeToUtf8Bytes(good, CoreJsonContext.Api.DlqMessage) });
        }

        var environment = new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.BootstrapServers };
        foreach (var command in new[] { "list", "inspect", "report", "replay" })
        {
            await using var cli = CliProcess.Start("dlq-" + command, ["dlq", command, "--topic", dlq], environment);
            var exit = await cli.WaitForExitAsync(PlatformProcesses.StartTimeout);
            var text = cli.Output;

            Assert.True(exit == 0, $"dlq {command} exited {exit}:\n{text}");
            Assert.Contains("6 unreadable record(s)", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", text, StringComparison.Ordinal);
            if (command == "replay")
            {
                Assert.Contains("1 message(s) replayed", text, StringComparison.Ordinal);
            }
            else if (command != "report")
            {
                Assert.Contains("INVALID_EVENT", text, StringComparison.Ordinal);
            }
        }
    }
}
