using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Protection;

/// <summary>
/// Per-client rate limits on the events API: over the limit is 429 with <c>Retry-After</c> and an
/// <see cref="ErrorResponse"/>. Health, metrics and documentation are never limited: the limits
/// are policies applied to the events routes only. Requests are counted here, by the middleware;
/// events are counted by the publish pipeline (<see cref="EventRateLimiter"/>), on every entry point.
/// </summary>
public static class RateLimiting
{
    public const string EventsPolicy = "events";
    public const string BatchPolicy = "events-batch";

    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>()
            .Bind(configuration.GetSection(RateLimitOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate<IOptions<GatewayOptions>>((limits, gateway) => limits.EventsPerWindow >= gateway.Value.MaxBatchEvents,
                "Gateway:RateLimit:EventsPerWindow must be at least Gateway:MaxBatchEvents: a full batch could never be taken.")
            .ValidateOnStart();
        services.AddSingleton<EventRateLimiter>();
        services.AddSingleton<IngestSocketLimiter>();

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, limits) =>
        {
            var o = limits.Value;
            limiter.AddPolicy(EventsPolicy, context => Partition(context, o, o.PermitsPerWindow, EventsPolicy));
            limiter.AddPolicy(BatchPolicy, context => Partition(context, o, o.BatchPermitsPerWindow, BatchPolicy));
            limiter.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected, o, cancellationToken);
        });
        return services;
    }

    /// <summary>The client a request is counted against: the token's subject, else its address.</summary>
    public static string ClientKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.User.FindFirst("sub")?.Value is { Length: > 0 } subject
            ? "sub:" + subject
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    /// <summary>Whole seconds to wait, at least one (what <c>Retry-After</c> says).</summary>
    internal static int RetryAfterSeconds(RateLimitLease lease, RateLimitOptions o)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : o.Window / o.SegmentsPerWindow;
        return Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
    }

    private static RateLimitPartition<string> Partition(HttpContext context, RateLimitOptions o, int permits, string policy)
    {
        if (!o.Enabled)
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        return RateLimitPartition.GetSlidingWindowLimiter(policy + "|" + ClientKey(context), _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = o.Window,
            SegmentsPerWindow = o.SegmentsPerWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions o, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var seconds = RetryAfterSeconds(rejected.Lease, o);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var details = new JsonObject
        {
            ["client"] = ClientKey(context),
            ["window_seconds"] = o.Window.TotalSeconds,
            ["retry_after_seconds"] = seconds,
        };
        return new ValueTask(ApiErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited,
            $"Too many requests: the limit for this client is exceeded. Retry after {seconds} s.", details));
    }
}

/// <summary>
/// Counts the events each client sends, on every entry point (single POST, batch, WebSocket ingest):
/// one permit per event, from one sliding window per client of <see cref="RateLimitOptions.EventsPerWindow"/>.
/// Thread-safe; no lock per event beyond the limiter's own.
/// </summary>
public sealed class EventRateLimiter : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string>? _limiter;

    public EventRateLimiter(IOptions<RateLimitOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var o = _options;
        _limiter = o.Enabled
            ? PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetSlidingWindowLimiter(client, _ => new SlidingWindowRateLimiterOptions
            {
                PermitLimit = o.EventsPerWindow,
                Window = o.Window,
                SegmentsPerWindow = o.SegmentsPerWindow,
                QueueLimit = 0,
                AutoReplenishment = true,
            }))
            : null;
    }

    /// <summary>Takes <paramref name="events"/> permits for <paramref name="client"/> (all or none); null when taken, else the refusal.</summary>
    public PublishFailure? TryTake(string client, int events)
    {
        if (_limiter is null || events <= 0)
        {
            return null;
        }

        // More than a window holds can never be taken (start-up validation keeps batches below it).
        var asked = Math.Min(events, _options.EventsPerWindow);
        using var lease = _limiter.AttemptAcquire(client, asked);
        if (lease.IsAcquired)
        {
            return null;
        }

        var seconds = RateLimiting.RetryAfterSeconds(lease, _options);
        var details = new JsonObject
        {
            ["client"] = client,
            ["window_seconds"] = _options.Window.TotalSeconds,
            ["retry_after_seconds"] = seconds,
            ["events"] = events,
            ["events_per_window"] = _options.EventsPerWindow,
        };
        return new PublishFailure(FailureKind.RateLimited, ErrorCodes.RateLimited,
            $"Too many events: the limit for this client is exceeded. Retry after {seconds} s.", details)
        {
            RetryAfter = TimeSpan.FromSeconds(seconds),
        };
    }

    public void Dispose() => _limiter?.Dispose();
}

/// <summary>
/// Bounds the WebSocket ingest connections a client holds at once (<see cref="RateLimitOptions.IngestSocketsPerClient"/>):
/// each connection holds a lease until it ends. Thread-safe.
/// </summary>
public sealed class IngestSocketLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public IngestSocketLimiter(IOptions<RateLimitOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _limiter = o.Enabled
            ? PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetConcurrencyLimiter(client, _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = o.IngestSocketsPerClient,
                QueueLimit = 0,
            }))
            : null;
        Limit = o.IngestSocketsPerClient;
    }

    /// <summary>The most connections one client may hold.</summary>
    public int Limit { get; }

    /// <summary>A lease to hold for the connection's life, or null when the client already holds <see cref="Limit"/>.</summary>
    public IDisposable? TryEnter(string client)
    {
        if (_limiter is null)
        {
            return NoLease.Instance;
        }

        var lease = _limiter.AttemptAcquire(client);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    public void Dispose() => _limiter?.Dispose();

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
