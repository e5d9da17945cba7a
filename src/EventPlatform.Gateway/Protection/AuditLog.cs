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
public sealed class AuditOptions : IValidatableObject
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

    /// <summary>A day's file is continued in a new segment once it holds this many bytes (it may pass it by one batch, 64 KiB).</summary>
    [Range(1L << 16, 1L << 40)]
    public long MaxFileBytes { get; set; } = 100L << 20;

    /// <summary>
    /// The audit files together: past it the oldest are deleted (with a warning: the budget is too
    /// small for the traffic). At least <see cref="MaxFileBytes"/>. At 10,000 requests/s (about
    /// 2 MB/s of entries) the default 1 GiB holds about 8 minutes; send entries to a collector
    /// (<see cref="Sink"/> = log) or raise it for a longer trail.
    /// </summary>
    [Range(1L << 16, 1L << 50)]
    public long MaxTotalBytes { get; set; } = 1L << 30;

    /// <summary>Days of audit files kept: older days are deleted.</summary>
    [Range(1, 36_500)]
    public int RetainDays { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxTotalBytes < MaxFileBytes)
        {
            yield return new ValidationResult(
                $"Audit:MaxTotalBytes ({MaxTotalBytes}) must be at least Audit:MaxFileBytes ({MaxFileBytes}).", [nameof(MaxTotalBytes)]);
        }
    }
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
    private readonly AuditFiles _files;
    private readonly ILogger _audit;
    private readonly ILogger<AuditLog> _logger;
    private long _dropped;

    public AuditLog(IOptions<AuditOptions> options, IConfiguration configuration, ILoggerFactory loggers)
    {
        _options = options.Value;
        _directory = _options.Directory ?? Path.Combine(DataDirectory.Resolve(configuration), "audit");
        _files = new AuditFiles(_directory, _options.MaxFileBytes, _options.MaxTotalBytes, _options.RetainDays);
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
        DateOnly? currentDay = null;
        AuditFile? file = null;

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
                    var day = DateOnly.FromDateTime(e.Time.UtcDateTime);
                    if (day != currentDay || file!.Bytes >= _files.MaxFileBytes)
                    {
                        if (file is not null)
                        {
                            await file.WriteOutAsync(buffer, stoppingToken).ConfigureAwait(false);
                            await file.DisposeAsync().ConfigureAwait(false);
                        }

                        file = Open(day);
                        currentDay = day;
                    }

                    WriteEntry(json, e);
                    json.Flush();
                    json.Reset();
                    buffer.GetSpan(1)[0] = (byte)'\n';
                    buffer.Advance(1);
                    if (buffer.WrittenCount >= BatchBytes)
                    {
                        await file.WriteOutAsync(buffer, stoppingToken).ConfigureAwait(false);
                    }
                }

                if (file is not null)
                {
                    await file.WriteOutAsync(buffer, stoppingToken).ConfigureAwait(false);
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
                await file.WriteOutAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Opens the segment to write <paramref name="day"/>'s entries to, and applies the retention around it.</summary>
    private AuditFile Open(DateOnly day)
    {
        var (path, _) = _files.Choose(day);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var (byAge, bySize, bytes) = _files.Enforce(day, path);
        if (bySize > 0)
        {
            LogDeletedBySize(_logger, bySize, bytes, _files.MaxTotalBytes);
        }
        else if (byAge > 0)
        {
            LogDeletedByAge(_logger, byAge, _files.RetainDays);
        }

        return new AuditFile(stream);
    }

    /// <summary>The segment being written and how many bytes it holds.</summary>
    private sealed class AuditFile(FileStream stream) : IAsyncDisposable
    {
        public long Bytes { get; private set; } = stream.Length;

        public async ValueTask WriteOutAsync(ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
        {
            if (buffer.WrittenCount == 0)
            {
                return;
            }

            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            Bytes += buffer.WrittenCount;
            buffer.ResetWrittenCount();
        }

        public ValueTask DisposeAsync() => stream.DisposeAsync();
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

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Deleted the {Files} oldest audit files ({Bytes} bytes) to keep them within Audit:MaxTotalBytes ({MaxTotalBytes}): raise it, or send entries to a collector (Audit:Sink=log), for a longer trail")]
    private static partial void LogDeletedBySize(ILogger logger, int files, long bytes, long maxTotalBytes);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Deleted {Files} audit files older than Audit:RetainDays ({Days} days)")]
    private static partial void LogDeletedByAge(ILogger logger, int files, int days);
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
