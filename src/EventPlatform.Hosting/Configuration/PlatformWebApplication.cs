using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>The web application builder every service starts from, with configuration in one precedence order.</summary>
public static class PlatformWebApplication
{
    /// <summary>
    /// A slim builder whose configuration is: environment (with the seed's variable names), then
    /// <paramref name="overrides"/> (what <c>up</c> decides), then the command line; and the platform's logging.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, IReadOnlyDictionary<string, string?>? overrides)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddSeedEnvironmentVariables();
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Configuration.AddCommandLine(args);
        PlatformLogging.Configure(builder.Logging, builder.Configuration);
        return builder;
    }
}
