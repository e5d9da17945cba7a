using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Channels;
using EventPlatform.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Protection;

/// <summary>Where audit entries go. Bound from <c>Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>file</c>: JSON lines, one file a day, under <see cref="Directory"/> (cheap enough for
    /// 10,000+ requests/s). <c>log</c>: through the logging pipeline, category
    /// <c>EventPlatform.Audit</c> (for platforms that collect stdout; costs more per request).
    /// </summary>
    [RegularExpression("^(file|log)$")]
    public string Sink { get; set; } = "file";

    /// <summary>Directory of the audit files; default <c>&lt;data dir&gt;/audit</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>Entries waiting to be written before new ones are dropped (and counted).</summary>
    [Range(1024, 10_000_000)]
    public int QueueCapacity { get; set; } = 100_000;
}

/// <summary>One API request, as audited.</summary>
public readonly record struct AuditEntry(
    DateTimeOffset Time, string Subject, string Client, string Method, string Route, string Path, int Status, double ElapsedMs, string RequestId);

/// <summary>
/// One audit entry per API request (the seed's "audit logging for all API requests"): who (token
/// subject, address), what (method, route template, path), the outcome (status), how long, and
/// the request id. Query strings are never recorded: they may hold tokens.
/// </summary>
/// <remarks>
/// Requests only enqueue an entry; a background writer formats and writes them in batches, so
/// auditing costs the request path an enqueue, not a formatted log line.
/// </remarks>
public sealed partial class AuditLog : BackgroundService
{
    public const string Category = "EventPlatform.Audit";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Formatted entries are written to the file once this many bytes are waiting (and at the end of every batch).</summary>
    private const int BatchBytes = 1 << 16;
    private readonly Channel<AuditEntry> _queue;
    private readonly AuditOptions _options;
    private readonly string _directory;
    private readonly ILogger _audit;
    private readonly ILogger<AuditLog> _logger;
    private long _dropped;

    public AuditLog(IOptions<AuditOptions> options, IConfiguration configuration, ILoggerFactory loggers)
    {
        _options = options.Value;
        _directory = _options.Directory ?? Path.Combine(DataDirectory.Resolve(configuration), "audit");
        _audit = loggers.CreateLogger(Category);
        _logger = loggers.CreateLogger<AuditLog>();
        _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
    }

    /// <summary>Entries dropped because the writer fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(in AuditEntry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (_options.Sink == "log")
            {
                await foreach (var e in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    LogEntry(_audit, e.Subject, e.Client, e.Method, e.Route, e.Path, e.Status, e.ElapsedMs, e.RequestId);
                }

                return;
            }

            await WriteFilesAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is queued is written by StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_options.Sink == "file" && _queue.Reader.TryPeek(out _))
        {
            // The writer was cancelled with entries left: write them before the process goes.
            await WriteFilesAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task WriteFilesAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(_directory);
        var reader = _queue.Reader;
        DateTime? currentDay = null;
        FileStream? file = null;

        // Entries are formatted into one buffer and written with one call per batch: a
        // Utf8JsonWriter on the file itself would flush the stream (a write call) per entry.
        var buffer = new ArrayBufferWriter<byte>(BatchBytes + 4096);
        using var json = new Utf8JsonWriter(buffer, WriterOptions);
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var e))
                {
                    var day = e.Time.UtcDateTime.Date;
                    if (day != currentDay)
                    {
                        if (file is not null)
                        {
                            await WriteOutAsync(file, buffer, stoppingToken).ConfigureAwait(false);
                            await file.DisposeAsync().ConfigureAwait(false);
                        }

                        var name = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                        file = new FileStream(Path.Combine(_directory, $"gateway-{name}.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
                        currentDay = day;
                    }

                    WriteEntry(json, e);
                    json.Flush();
                    json.Reset();
                    buffer.GetSpan(1)[0] = (byte)'\n';
                    buffer.Advance(1);
                    if (buffer.WrittenCount >= BatchBytes)
                    {
                        await WriteOutAsync(file!, buffer, stoppingToken).ConfigureAwait(false);
                    }
                }

                if (file is not null)
                {
                    await WriteOutAsync(file, buffer, stoppingToken).ConfigureAwait(false);
                }

                var dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0)
                {
                    LogDropped(_logger, dropped);
                }
            }
        }
        finally
        {
            if (file is not null)
            {
                await WriteOutAsync(file, buffer, CancellationToken.None).ConfigureAwait(false);
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask WriteOutAsync(FileStream file, ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.WrittenCount == 0)
        {
            return;
        }

        await file.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        buffer.ResetWrittenCount();
    }

    private static void WriteEntry(Utf8JsonWriter json, in AuditEntry e)
    {
        json.WriteStartObject();
        json.WriteString("time"u8, e.Time.UtcDateTime);
        json.WriteString("subject"u8, e.Subject);
        json.WriteString("client"u8, e.Client);
        json.WriteString("method"u8, e.Method);
        json.WriteString("route"u8, e.Route);
        json.WriteString("path"u8, e.Path);
        json.WriteNumber("status"u8, e.Status);
        json.WriteNumber("elapsed_ms"u8, Math.Round(e.ElapsedMs, 3));
        json.WriteString("request_id"u8, e.RequestId);
        json.WriteEndObject();
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "audit subject={Subject} client={Client} method={Method} route={Route} path={Path} status={Status} elapsed_ms={ElapsedMs:F2} request_id={RequestId}")]
    private static partial void LogEntry(ILogger logger, string subject, string client, string method, string route, string path, int status, double elapsedMs, string requestId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "The audit writer fell behind: {Dropped} entries were dropped")]
    private static partial void LogDropped(ILogger logger, long dropped);
}

public static class AuditLogExtensions
{
    public static IServiceCollection AddGatewayAuditLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuditOptions>().Bind(configuration.GetSection(AuditOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        return services;
    }

    /// <summary>Records every request that passes through, after it has been answered.</summary>
    public static IApplicationBuilder UseAuditLog(this IApplicationBuilder app)
    {
        if (!app.ApplicationServices.GetRequiredService<IOptions<AuditOptions>>().Value.Enabled)
        {
            return app;
        }

        var audit = app.ApplicationServices.GetRequiredService<AuditLog>();
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                audit.Record(new AuditEntry(
                    time.GetUtcNow(),
                    context.User.FindFirst("sub")?.Value ?? "-",
                    context.Connection.RemoteIpAddress?.ToString() ?? "-",
                    context.Request.Method,
                    (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched",
                    context.Request.Path.Value ?? "/",
                    context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    context.TraceIdentifier));
            }
        });
    }
}
