using EventPlatform.SchemaRegistry.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.SchemaRegistry.Api;

/// <summary>Every failure as Confluent's error body: <c>{"error_code": 40401, "message": "..."}</c>.</summary>
internal static partial class RegistryErrorHandling
{
    public static IApplicationBuilder UseRegistryErrors(this IApplicationBuilder app)
    {
        app.Use(static async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (SchemaRegistryException e) when (!context.Response.HasStarted)
            {
                await WriteAsync(context, e.Status, e.ErrorCode, e.Message).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                await WriteAsync(context, e.StatusCode, e.StatusCode, e.Message).ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.SchemaRegistry");
                LogUnhandled(logger, e, context.Request.Method, context.Request.Path, context.TraceIdentifier);
                await WriteAsync(context, 500, 50001, "Internal server error; quote request id " + context.TraceIdentifier).ConfigureAwait(false);
            }
        });

        // Unmatched routes and methods, as Jersey words them in Confluent's registry.
        app.UseStatusCodePages(static context => context.HttpContext.Response.StatusCode switch
        {
            404 => WriteAsync(context.HttpContext, 404, 404, "HTTP 404 Not Found"),
            405 => WriteAsync(context.HttpContext, 405, 405, "HTTP 405 Method Not Allowed"),
            var s => WriteAsync(context.HttpContext, s, s, $"HTTP {s}"),
        });
        return app;
    }

    /// <summary>Writes Confluent's error body (<c>error_code</c>, <c>message</c>) with <paramref name="status"/>: every refusal of the registry's middleware.</summary>
    public static Task WriteAsync(HttpContext context, int status, int code, string message) =>
        RegistryApi.WriteAsync(context, new RegistryError(code, message, context.TraceIdentifier), RegistryJsonContext.Api.RegistryError, status);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path} (request {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path, string requestId);
}
