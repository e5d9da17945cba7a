using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EventPlatform.Hosting.Errors;

/// <summary>
/// Gives every request an id: the caller's <c>X-Request-ID</c> when it is sane, else a new one.
/// It is echoed in the response header, used as the trace identifier in logs, and put in every
/// <see cref="Core.Errors.ErrorResponse"/>.
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "X-Request-ID";
    private const int MaxLength = 128;

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var id = Accept(context.Request.Headers[HeaderName].ToString()) ?? NewId();
            context.TraceIdentifier = id;
            context.Response.Headers[HeaderName] = id;
            return next(context);
        });

    public static string NewId() => string.Create(20, 0, static (span, _) =>
    {
        "req_".CopyTo(span);
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        Convert.TryToHexStringLower(bytes, span[4..], out _);
    });

    private static string? Accept(string value)
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
