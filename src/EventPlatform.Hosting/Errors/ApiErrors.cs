using System.Text.Json.Nodes;
using EventPlatform.Core;
using EventPlatform.Core.Errors;
using EventPlatform.Hosting.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Errors;

/// <summary>
/// Every failure of every service as the seed's <see cref="ErrorResponse"/>: route results,
/// unmatched routes (404/405), Kestrel's own refusals (413...) and unhandled exceptions.
/// </summary>
public static partial class ApiErrors
{
    public static ErrorResponse Create(HttpContext context, string code, string message, JsonObject? details = null)
    {
        context.RequestServices.GetService<ApiErrorCounts>()?.Record(code);
        return new(code, message, details, context.RequestServices.GetService<TimeProvider>()?.GetUtcNow() ?? DateTimeOffset.UtcNow, context.TraceIdentifier);
    }

    /// <summary>A result that writes an <see cref="ErrorResponse"/> with <paramref name="status"/>.</summary>
    public static JsonHttpResult<ErrorResponse> Result(HttpContext context, int status, string code, string message, JsonObject? details = null) =>
        TypedResults.Json(Create(context, code, message, details), CoreJsonContext.Api.ErrorResponse, statusCode: status);

    /// <summary>Writes an <see cref="ErrorResponse"/> straight to the response.</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string message, JsonObject? details = null)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(Create(context, code, message, details), CoreJsonContext.Api.ErrorResponse, contentType: "application/json", cancellationToken: context.RequestAborted);
    }

    /// <summary>Turns unhandled exceptions and bodiless 4xx/5xx responses into <see cref="ErrorResponse"/>s.</summary>
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = static async context =>
            {
                var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                if (exception is BadHttpRequestException bad)
                {
                    var (code, message) = bad.StatusCode switch
                    {
                        StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "The request body is larger than the server accepts."),
                        _ => (ErrorCodes.InvalidJson, bad.Message),
                    };
                    await WriteAsync(context, bad.StatusCode, code, message).ConfigureAwait(false);
                    return;
                }

                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Errors");
                LogUnhandled(logger, exception, context.Request.Method, context.Request.Path, context.TraceIdentifier);
                await WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "An internal error occurred. Quote the request id when reporting it.").ConfigureAwait(false);
            },
        });

        app.UseStatusCodePages(static async statusContext =>
        {
            var context = statusContext.HttpContext;
            var (code, message) = context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => (ErrorCodes.NotFound, $"No route matches {context.Request.Method} {context.Request.Path}."),
                StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, $"{context.Request.Method} is not allowed on {context.Request.Path}."),
                StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.UnsupportedMediaType, "The request's content type is not supported by this route."),
                StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "The request body is larger than the server accepts."),
                var s when s >= 500 => (ErrorCodes.InternalError, "An internal error occurred."),
                _ => (ErrorCodes.InvalidJson, "The request could not be processed."),
            };
            await WriteAsync(context, context.Response.StatusCode, code, message).ConfigureAwait(false);
        });
        return app;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path} (request {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, Exception? exception, string method, PathString path, string requestId);
}
