using System.Text;
using System.Text.Json;
using EventPlatform.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Hosting.Tests;

/// <summary>The JSON log line: its fixed fields, named values, scopes, exceptions, and that nothing a value holds can break it.</summary>
public sealed partial class JsonLogFormatterTests
{
    private static readonly JsonLogFormatter Formatter = new(new FixedTime(new DateTimeOffset(2026, 12, 3, 9, 33, 8, 123, TimeSpan.Zero)));

    private static string Format<TState>(TState state, Func<TState, Exception?, string> formatter, Exception? exception = null, IExternalScopeProvider? scopes = null, string category = "Test.Category", int eventId = 42)
    {
        using var writer = new StringWriter();
        Formatter.Write(new LogEntry<TState>(LogLevel.Warning, category, new EventId(eventId), state, exception, formatter), scopes, writer);
        return writer.ToString();
    }

    /// <summary>Parses <paramref name="output"/> as exactly one line holding one JSON object.</summary>
    private static JsonElement OneObject(string output)
    {
        Assert.EndsWith("\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', output[..^1]);
        Assert.DoesNotContain('\r', output);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        return document.RootElement.Clone();
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Event {EventId} went to {Topic}[{Partition}] after {Delay} ({Message})")]
    private static partial void LogSample(ILogger logger, string eventId, string topic, int partition, TimeSpan delay, string message);

    [Fact]
    public void An_entry_has_the_fixed_fields_then_its_named_values_in_snake_case()
    {
        var capture = new CaptureLogger();
        LogSample(capture, "evt_1", "events.iot", 3, TimeSpan.FromSeconds(2), "why");

        var line = OneObject(capture.Lines.Single());

        Assert.Equal("2026-12-03T09:33:08.123Z", line.GetProperty("timestamp").GetString());
        Assert.Equal("Information", line.GetProperty("level").GetString());
        Assert.Equal("Capture", line.GetProperty("category").GetString());
        Assert.Equal(9001, line.GetProperty("log_event_id").GetInt32());
        Assert.Equal("Event evt_1 went to events.iot[3] after 00:00:02 (why)", line.GetProperty("message").GetString());
        Assert.Equal("evt_1", line.GetProperty("event_id").GetString());
        Assert.Equal("events.iot", line.GetProperty("topic").GetString());
        Assert.Equal(3, line.GetProperty("partition").GetInt32());
        Assert.Equal("00:00:02", line.GetProperty("delay").GetString());
        // A value named like a fixed field keeps the fixed field intact.
        Assert.Equal("why", line.GetProperty("field_message").GetString());
        Assert.False(line.TryGetProperty("{OriginalFormat}", out _));
    }

    [Fact]
    public void Scopes_add_their_values_and_plain_text_scopes_are_listed()
    {
        var scopes = new LoggerExternalScopeProvider();
        using var request = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "req_1", ["TraceId"] = "4bf92f3577b34da6a3ce929d0e0e4736" });
        using var text = scopes.Push("a plain scope");

        var line = OneObject(Format("hello", (s, _) => s, scopes: scopes));

        Assert.Equal("req_1", line.GetProperty("request_id").GetString());
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", line.GetProperty("trace_id").GetString());
        Assert.Equal("a plain scope", line.GetProperty("scope")[0].GetString());
    }

    [Fact]
    public void An_inner_scope_beats_an_outer_one_of_the_same_name_and_the_message_values_beat_both()
    {
        var scopes = new LoggerExternalScopeProvider();
        using var outer = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "framework-id", ["Topic"] = "outer" });
        using var inner = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "req_platform", ["Topic"] = "inner" });

        var line = OneObject(Format(new Dictionary<string, object?> { ["Topic"] = "own" }, (_, _) => "text", scopes: scopes));

        Assert.Equal("req_platform", line.GetProperty("request_id").GetString());
        Assert.Equal("own", line.GetProperty("topic").GetString());
    }

    [Fact]
    public void An_exception_is_an_object_with_type_message_and_stack()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("outer", new FormatException("inner"));
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        var line = OneObject(Format("failed", (s, _) => s, thrown));

        var exception = line.GetProperty("exception");
        Assert.Equal("System.InvalidOperationException", exception.GetProperty("type").GetString());
        Assert.Equal("outer", exception.GetProperty("message").GetString());
        var stack = exception.GetProperty("stack").GetString()!;
        Assert.Contains(nameof(An_exception_is_an_object_with_type_message_and_stack), stack, StringComparison.Ordinal);
        Assert.Contains("FormatException: inner", stack, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_values_are_cut()
    {
        var longText = new string('x', JsonLogFormatter.MaxValueLength * 3);

        var line = OneObject(Format(new Dictionary<string, object?> { ["Value"] = longText }, (_, _) => longText));

        Assert.True(line.GetProperty("message").GetString()!.Length < JsonLogFormatter.MaxValueLength + 32);
        Assert.EndsWith("[truncated]", line.GetProperty("value").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_whose_ToString_throws_still_gives_one_line()
    {
        var line = OneObject(Format(new Dictionary<string, object?> { ["Bad"] = new Throwing() }, (_, _) => "text"));

        Assert.Contains("could not be formatted", line.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Hostile_text_anywhere_never_breaks_the_line_or_makes_another()
    {
        var random = new Random(20261203);
        for (var i = 0; i < 2000; i++)
        {
            var text = HostileText(random);
            var key = HostileText(random);
            var scopes = new LoggerExternalScopeProvider();
            using var scope = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = text, [key.Length == 0 ? "k" : key] = text });
            using var plain = scopes.Push(text);
            var state = new Dictionary<string, object?> { ["Value"] = text, [key.Length == 0 ? "k" : key] = key, ["List"] = new[] { text, key } };

            var line = OneObject(Format(state, (_, _) => text, new InvalidOperationException(text), scopes, category: text));

            var written = line.GetProperty("request_id").GetString()!;
            Assert.Equal(Expected(text), written);
        }
    }

    /// <summary>What a value reads as after the line is parsed: the text, cut if long, with lone surrogates replaced.</summary>
    private static string Expected(string text)
    {
        var cut = text.Length > JsonLogFormatter.MaxValueLength ? text[..JsonLogFormatter.MaxValueLength] + "…[truncated]" : text;
        var builder = new StringBuilder(cut.Length);
        for (var i = 0; i < cut.Length; i++)
        {
            if (char.IsHighSurrogate(cut[i]) && i + 1 < cut.Length && char.IsLowSurrogate(cut[i + 1]))
            {
                builder.Append(cut, i, 2);
                i++;
            }
            else
            {
                builder.Append(char.IsSurrogate(cut[i]) ? '\uFFFD' : cut[i]);
            }
        }

        return builder.ToString();
    }

    internal static string HostileText(Random random)
    {
        string[] pieces = ["\"", "\\", "\n", "\r\n", "\u0000", "\u001b[31m", "\u2028", "\uD800", "\uDC00", "😀", "}{\"level\":\"Critical\"}", "<script>", "'", "\t", "\u007f", "é", " "];
        var length = random.Next(10) switch
        {
            0 => random.Next(JsonLogFormatter.MaxValueLength, JsonLogFormatter.MaxValueLength * 2),
            _ => random.Next(0, 40),
        };
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            if (random.Next(3) == 0)
            {
                builder.Append(pieces[random.Next(pieces.Length)]);
            }
            else
            {
                builder.Append((char)random.Next(0, 0x10000));
            }
        }

        return builder.ToString();
    }

    private sealed class Throwing
    {
        public override string ToString() => throw new InvalidOperationException("no text");
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>A logger that formats every entry with the formatter under test.</summary>
    private sealed class CaptureLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            using var writer = new StringWriter();
            Formatter.Write(new LogEntry<TState>(logLevel, "Capture", eventId, state, exception, formatter), null, writer);
            Lines.Add(writer.ToString());
        }
    }
}
