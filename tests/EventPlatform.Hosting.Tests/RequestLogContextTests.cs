using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using EventPlatform.Hosting.Errors;
using EventPlatform.Hosting.Logging;
using EventPlatform.Hosting.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventPlatform.Hosting.Tests;

/// <summary>With JSON logs, what a request logs carries its request id and its W3C trace context.</summary>
public sealed class RequestLogContextTests : IAsyncLifetime
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ParentSpan = "00f067aa0ba902b7";
    private readonly JsonCaptureProvider _logs = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = PlatformWorkerApplication.CreateBuilder(["--Logging:Format=json"], "TestWorker", "http://127.0.0.1:0");
        builder.Logging.AddProvider(_logs);
        _app = builder.BuildWorker();
        _app.MapGet("/log/{marker}", (string marker, ILoggerFactory loggers) =>
        {
            loggers.CreateLogger("RequestLogContextTests").LogInformation("Handling {Marker}", marker);
            return Results.Ok();
        });
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, JsonElement Line)> LogAsync(string? requestId, string? traceparent)
    {
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/log/" + marker);
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation(RequestIds.HeaderName, requestId);
        }

        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        var response = await _http.SendAsync(request);
        var line = _logs.Lines.Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.TryGetProperty("marker", out var m) && m.GetString() == marker);
        return (response, line);
    }

    [Fact]
    public async Task A_line_written_while_handling_a_request_carries_its_request_id_and_trace_context()
    {
        var (response, line) = await LogAsync("client-req-1", $"00-{TraceId}-{ParentSpan}-01");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("client-req-1", response.Headers.GetValues(RequestIds.HeaderName).Single());
        Assert.Equal("client-req-1", line.GetProperty("request_id").GetString());
        Assert.Equal(TraceId, line.GetProperty("trace_id").GetString());
        Assert.Equal(ParentSpan, line.GetProperty("parent_id").GetString());
        Assert.Matches("^[0-9a-f]{16}$", line.GetProperty("span_id").GetString());
        Assert.NotEqual(ParentSpan, line.GetProperty("span_id").GetString());
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\tinside")]
    [InlineData("")]
    public async Task An_unfit_request_id_is_replaced_by_a_new_one_and_a_bad_traceparent_starts_a_new_trace(string requestId)
    {
        var (response, line) = await LogAsync(requestId.Length == 0 ? null : requestId, "00-zz-not-a-trace");

        var echoed = response.Headers.GetValues(RequestIds.HeaderName).Single();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^req_[0-9a-f]{16}$", echoed);
        Assert.Equal(echoed, line.GetProperty("request_id").GetString());
        Assert.Matches("^[0-9a-f]{32}$", line.GetProperty("trace_id").GetString());
    }

    [Fact]
    public async Task A_request_id_with_quotes_is_taken_and_stays_one_json_string()
    {
        var (response, line) = await LogAsync("q\"uo}te\\", null);

        Assert.Equal("q\"uo}te\\", response.Headers.GetValues(RequestIds.HeaderName).Single());
        Assert.Equal("q\"uo}te\\", line.GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task An_overlong_request_id_is_not_taken()
    {
        var (response, line) = await LogAsync(new string('a', 129), null);

        Assert.Matches("^req_[0-9a-f]{16}$", response.Headers.GetValues(RequestIds.HeaderName).Single());
        Assert.Matches("^req_", line.GetProperty("request_id").GetString());
    }

    /// <summary>Formats every entry with the platform's JSON formatter, scopes included.</summary>
    private sealed class JsonCaptureProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly JsonLogFormatter _formatter = new();
        private IExternalScopeProvider? _scopes;

        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(JsonCaptureProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                using var writer = new StringWriter();
                provider._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider._scopes, writer);
                provider.Lines.Enqueue(writer.ToString());
            }
        }
    }
}
