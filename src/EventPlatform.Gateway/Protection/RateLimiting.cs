using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using EventPlatform.Core.Errors;
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
/// are policies applied to the events routes only.
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
            .ValidateOnStart();

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
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : o.Window / o.SegmentsPerWindow;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
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
