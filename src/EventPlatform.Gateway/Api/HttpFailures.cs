using System.Globalization;
using EventPlatform.Core.Errors;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Hosting.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventPlatform.Gateway.Api;

/// <summary>The HTTP edge of a publish failure: its status code and its <see cref="ErrorResponse"/>.</summary>
public static class HttpFailures
{
    /// <summary>The HTTP status a failure kind is answered with.</summary>
    public static int StatusCode(FailureKind kind) => kind switch
    {
        FailureKind.Invalid => StatusCodes.Status400BadRequest,
        FailureKind.UnknownTopic => StatusCodes.Status404NotFound,
        FailureKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        FailureKind.KeyReused => StatusCodes.Status422UnprocessableEntity,
        FailureKind.InProgress => StatusCodes.Status409Conflict,
        FailureKind.RateLimited => StatusCodes.Status429TooManyRequests,
        FailureKind.Unavailable or FailureKind.ShuttingDown => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <inheritdoc cref="StatusCode(FailureKind)"/>
    public static int HttpStatusCode(this PublishFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return StatusCode(failure.Kind);
    }

    /// <summary>The failure as an <see cref="ErrorResponse"/> result (with <c>Retry-After</c> when the client should wait).</summary>
    public static JsonHttpResult<ErrorResponse> Result(HttpContext context, PublishFailure failure)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(failure);
        SetRetryAfter(context, failure.RetryAfter);

        return ApiErrors.Result(context, failure.HttpStatusCode(), failure.ErrorCode, failure.Message, failure.Details);
    }

    /// <summary>Writes the failure as an <see cref="ErrorResponse"/> (where no result can be returned, e.g. before a WebSocket upgrade).</summary>
    public static Task WriteAsync(HttpContext context, PublishFailure failure)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(failure);
        SetRetryAfter(context, failure.RetryAfter);

        return ApiErrors.WriteAsync(context, failure.HttpStatusCode(), failure.ErrorCode, failure.Message, failure.Details);
    }

    /// <summary>Sets <c>Retry-After</c> in whole seconds (at least 1) when the client should wait.</summary>
    public static void SetRetryAfter(HttpContext context, TimeSpan? wait)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (wait is { } w)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(w.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }
}
