using System.Buffers;
using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace EventPlatform.Hosting.Logging;

/// <summary>
/// Writes each log entry as one JSON object on one line (CloudWatch Logs, Loki and the like parse
/// it as is). The fields, in this order:
/// <list type="bullet">
/// <item><c>timestamp</c>: ISO-8601 UTC with milliseconds (<c>2026-12-03T09:33:08.123Z</c>);</item>
/// <item><c>level</c>: Trace, Debug, Information, Warning, Error or Critical;</item>
/// <item><c>category</c>: the logger's category (usually the class that logs);</item>
/// <item><c>log_event_id</c>: the number of the log message (one table per part of the platform, see the README);</item>
/// <item><c>message</c>: the rendered text;</item>
/// <item><c>exception</c>: <c>{ "type", "message", "stack" }</c> when there is one (<c>stack</c> is the full text, inner exceptions included);</item>
/// <item>each named value of the message template, in snake_case (<c>{EventId}</c> is <c>event_id</c>);</item>
/// <item>each named value of the scopes the entry was written in (the innermost scope first), in snake_case: <c>request_id</c>
/// while a request is handled, <c>trace_id</c>, <c>span_id</c> and <c>parent_id</c> of the current
/// <see cref="System.Diagnostics.Activity"/>; scopes that are plain text are listed in <c>scope</c>.</item>
/// </list>
/// A value whose name is taken by an earlier field is left out; one named like a fixed field is
/// written as <c>field_</c> + its name. Control characters, quotes and lone surrogates are escaped
/// or replaced, and long values are cut (marked with <c>…[truncated]</c>), so no value can break
/// the line or make another.
/// </summary>
/// <remarks>Thread-safe: each thread formats into its own buffer.</remarks>
public sealed class JsonLogFormatter : ConsoleFormatter
{
    /// <summary>The formatter's name in <c>Logging:Console:FormatterName</c>.</summary>
    public const string FormatterName = "eventplatform-json";

    /// <summary>The longest a message or a value may be, in characters.</summary>
    public const int MaxValueLength = 8 * 1024;

    /// <summary>The longest an exception's text may be, in characters.</summary>
    public const int MaxStackLength = 32 * 1024;

    private const int MaxListItems = 64;
    private const string Truncated = "…[truncated]";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Not for HTML: quotes, backslashes and control characters are still escaped; other text stays readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly string[] Reserved = ["timestamp", "level", "category", "log_event_id", "message", "exception", "scope"];
    private static readonly ConcurrentDictionary<string, string> SnakeNames = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static Buffer? _buffer;

    private readonly TimeProvider _time;

    public JsonLogFormatter(TimeProvider? time = null)
        : base(FormatterName) => _time = time ?? TimeProvider.System;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var buffer = _buffer ??= new Buffer();
        buffer.Reset();
        try
        {
            WriteEntry(buffer, logEntry, scopeProvider);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A value whose ToString throws must not lose the entry, nor throw into the caller.
            buffer.Reset();
            WriteFallback(buffer, logEntry, e);
        }

        buffer.Writer.Flush();
        textWriter.Write(Encoding.UTF8.GetString(buffer.Bytes.WrittenSpan));
        textWriter.Write('\n');
    }

    private void WriteEntry<TState>(Buffer buffer, in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider)
    {
        var writer = buffer.Writer;
        writer.WriteStartObject();
        WriteHeader(writer, entry.LogLevel, entry.Category, entry.EventId.Id);
        var message = entry.Formatter(entry.State, entry.Exception);
        writer.WriteString("message", Bound(message, MaxValueLength));
        if (entry.Exception is { } exception)
        {
            writer.WriteStartObject("exception");
            writer.WriteString("type", exception.GetType().FullName);
            writer.WriteString("message", Bound(exception.Message, MaxValueLength));
            writer.WriteString("stack", Bound(exception.ToString(), MaxStackLength));
            writer.WriteEndObject();
        }

        var names = buffer.Names;
        if (entry.State is IEnumerable<KeyValuePair<string, object?>> values)
        {
            WriteValues(writer, names, values);
        }

        if (scopeProvider is not null)
        {
            scopeProvider.ForEachScope(static (scope, state) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    state.ValueScopes.Add(pairs);
                }
                else if (scope is not null)
                {
                    state.TextScopes.Add(Bound(scope.ToString() ?? "", MaxValueLength));
                }
            }, buffer);

            // Innermost first: the platform's request scope beats a framework scope of the same
            // name opened around it (ASP.NET Core's own RequestId, when its hosting logs are on).
            for (var i = buffer.ValueScopes.Count - 1; i >= 0; i--)
            {
                WriteValues(writer, names, buffer.ValueScopes[i]);
            }

            // Not kept alive by this thread until its next entry.
            buffer.ValueScopes.Clear();
        }

        if (buffer.TextScopes.Count > 0)
        {
            writer.WriteStartArray("scope");
            foreach (var text in buffer.TextScopes)
            {
                writer.WriteStringValue(text);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private void WriteHeader(Utf8JsonWriter writer, LogLevel level, string category, int eventId)
    {
        Span<char> time = stackalloc char[24];
        _time.GetUtcNow().UtcDateTime.TryFormat(time, out var length, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        writer.WriteString("timestamp", time[..length]);
        writer.WriteString("level", LevelName(level));
        writer.WriteString("category", Bound(category, MaxValueLength));
        writer.WriteNumber("log_event_id", eventId);
    }

    private void WriteFallback<TState>(Buffer buffer, in LogEntry<TState> entry, Exception failure)
    {
        var writer = buffer.Writer;
        writer.WriteStartObject();
        WriteHeader(writer, entry.LogLevel, entry.Category, entry.EventId.Id);
        writer.WriteString("message", Bound($"(this entry could not be formatted: {failure.GetType().Name}: {failure.Message})", MaxValueLength));
        writer.WriteEndObject();
    }

    private static void WriteValues(Utf8JsonWriter writer, HashSet<string> names, IEnumerable<KeyValuePair<string, object?>> values)
    {
        foreach (var (key, value) in values)
        {
            if (key is null || key == "{OriginalFormat}")
            {
                continue;
            }

            var name = SnakeName(key);
            if (!names.Add(name))
            {
                continue;
            }

            writer.WritePropertyName(name);
            WriteValue(writer, value, allowList: true);
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, bool allowList)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(Bound(s, MaxValueLength));
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case double or float when Convert.ToDouble(value, CultureInfo.InvariantCulture) is var d && double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case DateTimeOffset t:
                writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture));
                break;
            case DateTime t:
                writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture));
                break;
            case TimeSpan t:
                writer.WriteStringValue(t.ToString("c", CultureInfo.InvariantCulture));
                break;
            case IEnumerable list when allowList && value is not IFormattable:
                writer.WriteStartArray();
                var count = 0;
                foreach (var item in list)
                {
                    if (++count > MaxListItems)
                    {
                        writer.WriteStringValue(Truncated);
                        break;
                    }

                    WriteValue(writer, item, allowList: false);
                }

                writer.WriteEndArray();
                break;
            case IFormattable f:
                writer.WriteStringValue(Bound(f.ToString(null, CultureInfo.InvariantCulture), MaxValueLength));
                break;
            default:
                writer.WriteStringValue(Bound(value.ToString() ?? "", MaxValueLength));
                break;
        }
    }

    /// <summary>
    /// <paramref name="text"/> cut to <paramref name="max"/> characters, with lone surrogates
    /// replaced (the JSON writer cannot encode them).
    /// </summary>
    internal static string Bound(string text, int max)
    {
        if (text.Length > max)
        {
            text = string.Concat(text.AsSpan(0, max), Truncated);
        }

        return text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? text : ReplaceLoneSurrogates(text);
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    /// <summary><c>EventId</c> → <c>event_id</c>, <c>HTTPStatus</c> → <c>http_status</c>; a fixed field's name gets <c>field_</c> before it.</summary>
    internal static string SnakeName(string name)
    {
        if (SnakeNames.TryGetValue(name, out var cached))
        {
            return cached;
        }

        var snake = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((previousLower || acronymEnd) && snake.Length > 0 && snake[^1] != '_')
                {
                    snake.Append('_');
                }

                snake.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                snake.Append(c);
            }
            else if (snake.Length > 0 && snake[^1] != '_')
            {
                snake.Append('_');
            }
        }

        var result = snake.Length == 0 ? "field" : snake.ToString().TrimEnd('_');
        if (Array.IndexOf(Reserved, result) >= 0)
        {
            result = "field_" + result;
        }

        // Names come from message templates and scopes in code; the bound only guards against a scope of made-up keys.
        if (SnakeNames.Count < 4096)
        {
            SnakeNames.TryAdd(name, result);
        }

        return result;
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "Trace",
        LogLevel.Debug => "Debug",
        LogLevel.Information => "Information",
        LogLevel.Warning => "Warning",
        LogLevel.Error => "Error",
        LogLevel.Critical => "Critical",
        _ => "None",
    };

    /// <summary>One thread's output buffer, writer and scratch sets, reused entry after entry.</summary>
    private sealed class Buffer
    {
        public Buffer() => Writer = new Utf8JsonWriter(Bytes, WriterOptions);

        public ArrayBufferWriter<byte> Bytes { get; } = new(1024);

        public Utf8JsonWriter Writer { get; }

        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public List<string> TextScopes { get; } = [];

        public List<IEnumerable<KeyValuePair<string, object?>>> ValueScopes { get; } = [];

        public void Reset()
        {
            Bytes.ResetWrittenCount();
            Writer.Reset(Bytes);
            Names.Clear();
            TextScopes.Clear();
            ValueScopes.Clear();
        }
    }
}
