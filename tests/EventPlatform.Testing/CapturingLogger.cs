using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Testing;

/// <summary>A logger that keeps what it is told, for asserting on log lines (level, event id, text).</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Text)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Text)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((logLevel, eventId, formatter(state, exception)));
    }
}

/// <summary>A typed <see cref="CapturingLogger"/>.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    public CapturingLogger Inner { get; } = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Text)> Entries => Inner.Entries;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => Inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Inner.Log(logLevel, eventId, state, exception, formatter);
}
