using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Errors;

/// <summary>
/// Gives every request an id: the caller's <c>X-Request-ID</c> when it is sane (1 to 128
/// printable ASCII characters), else a new one. It is echoed in the response header, used as the
/// trace identifier, and put in every <see cref="Core.Errors.ErrorResponse"/>. With JSON logs it is
/// also a logging scope, so every entry written while the request is handled carries
/// <c>request_id</c> (and, from the request's activity, <c>trace_id</c> and <c>span_id</c>).
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "X-Request-ID";
    private const int MaxLength = 128;

    /// <summary>The category of the logger the request scope is opened on (scopes are shared by every category).</summary>
    public const string LogCategory = "EventPlatform.Requests";

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        if (services.GetService<PlatformLogFormat>() is not { Format: LogFormat.Json })
        {
            // Text logs show no scopes: the request pays for nothing but its id.
            return app.Use(static (context, next) =>
            {
                Assign(context);
                return next(context);
            });
        }

        // Resolving it starts the listener that makes ASP.NET Core give each request an activity (trace context).
        services.GetService<RequestActivities>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory);
        return app.Use(async (context, next) =>
        {
            using (logger.BeginScope(new RequestLogScope(Assign(context))))
            {
                await next(context).ConfigureAwait(false);
            }
        });
    }

    private static string Assign(HttpContext context)
    {
        var id = Accept(context.Request.Headers[HeaderName].ToString()) ?? NewId();
        context.TraceIdentifier = id;
        context.Response.Headers[HeaderName] = id;
        return id;
    }

    public static string NewId() => string.Create(20, 0, static (span, _) =>
    {
        "req_".CopyTo(span);
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        Convert.TryToHexStringLower(bytes, span[4..], out _);
    });

    /// <summary>The caller's id when it is 1 to 128 printable ASCII characters (no spaces, no control characters), else null.</summary>
    internal static string? Accept(string value)
    {
        if (value.Length is 0 or > MaxLength)
        {
            return null;
        }

        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return null;
            }
        }

        return value;
    }
}
