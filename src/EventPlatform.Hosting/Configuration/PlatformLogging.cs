using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Hosting.Configuration;

/// <summary>The console logging every service uses.</summary>
public static class PlatformLogging
{
    /// <summary>One line per entry; per-request framework logs off by default (they cost on the hot path).</summary>
    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // With this category enabled at any level, ASP.NET Core starts an Activity (an async-local
        // that every await then carries) and a logging scope for every request; it logs requests at
        // Information, which is off anyway. A host that fails to start still throws from StartAsync.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging.AddConfiguration(configuration.GetSection("Logging"));
    }
}
