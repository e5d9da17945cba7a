using EventPlatform.Hosting.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EventPlatform.Hosting.Configuration;

/// <summary>How log entries are written to stdout.</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per entry (the default).</summary>
    Text,

    /// <summary>One JSON object per line (<see cref="JsonLogFormatter"/>), with request ids and trace context.</summary>
    Json,
}

/// <summary>The console logging every service uses.</summary>
public static class PlatformLogging
{
    /// <summary>The setting that chooses the format: <c>--Logging:Format=json</c>, or <see cref="FormatVariable"/>.</summary>
    public const string FormatKey = "Logging:Format";

    /// <summary>The environment variable for <see cref="FormatKey"/>.</summary>
    public const string FormatVariable = "EVENTPLATFORM_LOG_FORMAT";

    /// <summary>
    /// One line per entry; per-request framework logs off by default (they cost on the hot path).
    /// With <c>Logging:Format=json</c> each entry is a JSON object (<see cref="JsonLogFormatter"/>)
    /// carrying the scopes: the request id, and the trace context of the request's activity.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>Logging:Format</c> is neither <c>text</c> nor <c>json</c>.</exception>
    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(logging);
        var format = FormatOf(configuration);
        logging.ClearProviders();
        if (format == LogFormat.Json)
        {
            logging.AddConsole(o => o.FormatterName = JsonLogFormatter.FormatterName);
            logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, JsonLogFormatter>());
            logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
            logging.Services.TryAddSingleton<RequestActivities>();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }

        logging.Services.TryAddSingleton(new PlatformLogFormat(format));
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // With this category enabled at any level, ASP.NET Core starts an Activity (an async-local
        // that every await then carries) and a logging scope for every request; it logs requests at
        // Information, which is off anyway. A host that fails to start still throws from StartAsync.
        // JSON logs get the Activity from RequestActivities instead, without the framework's scope.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging.AddConfiguration(configuration.GetSection("Logging"));
    }

    /// <summary>The format <paramref name="configuration"/> asks for (<see cref="FormatKey"/>); text when it says nothing.</summary>
    /// <exception cref="InvalidOperationException">It names another format.</exception>
    public static LogFormat FormatOf(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[FormatKey];
        return value?.Trim().ToUpperInvariant() switch
        {
            null or "" or "TEXT" => LogFormat.Text,
            "JSON" => LogFormat.Json,
            _ => throw new InvalidOperationException($"{FormatKey} (or {FormatVariable}) must be 'text' or 'json', not '{value}'."),
        };
    }
}

/// <summary>The log format the host was built with.</summary>
/// <param name="Format">Text or JSON.</param>
public sealed record PlatformLogFormat(LogFormat Format);
