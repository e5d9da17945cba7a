using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Configuration;

/// <summary>The web application builder every service starts from, with configuration in one precedence order.</summary>
public static class PlatformWebApplication
{
    /// <summary>The host setting that turns the reloading of configuration files on change on or off.</summary>
    public const string ReloadOnChangeKey = "hostBuilder:reloadConfigOnChange";

    /// <summary>
    /// A slim builder whose configuration is: environment (with the seed's variable names), then
    /// <paramref name="overrides"/> (what <c>up</c> decides), then the command line; and the platform's logging.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, IReadOnlyDictionary<string, string?>? overrides)
    {
        // No reloading of appsettings files on change: the watcher behind it follows the content root
        // (the working directory) recursively, where the data directory is by default, and woke on
        // every audit and warehouse write; settings are read at start anyway.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [$"--{ReloadOnChangeKey}=false", .. args] });
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
