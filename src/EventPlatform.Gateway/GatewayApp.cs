using EventPlatform.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventPlatform.Gateway;

/// <summary>Builds the gateway as a web application: for the <c>gateway</c> and <c>up</c> commands, and for tests.</summary>
public static class GatewayApp
{
    /// <param name="args">Command-line arguments (configuration overrides such as --Gateway:Urls=...).</param>
    /// <param name="overrides">Settings that beat the environment but not the command line (what <c>up</c> decides).</param>
    /// <param name="configureServices">Extra registrations (the embedded broker, test doubles of time).</param>
    public static WebApplication Create(
        string[] args,
        IReadOnlyDictionary<string, string?>? overrides = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = PlatformWebApplication.CreateBuilder(args, overrides);

        var gateway = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        builder.WebHost.UseUrls(gateway.Urls.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        ConnectionLimits.Apply(builder, GatewayOptions.SectionName, ConnectionLimits.GatewayShare);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Our own limits answer first, with an ErrorResponse; this is the backstop.
            kestrel.Limits.MaxRequestBodySize = Math.Max(gateway.MaxBatchBytes, gateway.MaxEventBytes) + 1024L;
        });
        // Kestrel hands each read and each write to the thread pool by default: two hops per request
        // on top of the socket's own. Our handlers never block a thread (the Kafka produce is
        // asynchronous), so they may run on the thread that completed the socket operation.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = gateway.InlineScheduling);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddGateway(builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapGateway();
        return app;
    }
}
