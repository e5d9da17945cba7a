using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Gateway.Auth;
using EventPlatform.Gateway.Protection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventPlatform.Gateway.Streaming;

/// <summary>Registration and routes of the read side: latest events, the WebSocket stream, WebSocket ingest.</summary>
public static class StreamingServiceCollectionExtensions
{
    /// <summary>Adds <see cref="StreamingOptions"/> (validated at start), the topic inspector, the latest-events reader and the stream hubs.</summary>
    public static IServiceCollection AddGatewayStreaming(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StreamingOptions>()
            .Bind(configuration.GetSection(StreamingOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.LatestDefaultLimit <= o.LatestMaxLimit, "Gateway:Streaming:LatestDefaultLimit must not exceed Gateway:Streaming:LatestMaxLimit.")
            .ValidateOnStart();
        services.AddSingleton<KafkaTopicInspector>();
        services.AddSingleton<LatestEventsReader>();
        services.AddSingleton<StreamHubRegistry>();
        return services;
    }

    /// <summary>
    /// The WebSocket middleware, with the streaming keep-alive. It runs before authentication, so that
    /// authentication can tell a WebSocket upgrade (which may carry its token in the query string).
    /// </summary>
    public static WebApplication UseStreamingWebSockets(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StreamingOptions>>().Value;
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval });
        return app;
    }

    /// <summary>
    /// Maps <c>GET /api/v1/events/{topic}/latest</c>, <c>WS /api/v1/stream/{topic}</c> and
    /// <c>WS /api/v1/ingest/{topic}</c>, all behind the same bearer authentication as the publish routes.
    /// </summary>
    public static WebApplication MapStreamingApi(this WebApplication app)
    {
        var group = app.MapGroup("/api/v1").RequireAuthorization();
        group.MapGet("/events/{topic}/latest", LatestEventsApi.GetLatestAsync).WithName("GetLatestEvents")
            .RequireTopicAccess(TopicAction.Read).RequireRateLimiting(RateLimiting.EventsPolicy).WithLatestEventsDocs();
        group.MapGet("/stream/{topic}", StreamSocketEndpoint.HandleAsync).WithName("StreamEvents").WithMetadata(QueryStringTokenAllowed.Instance)
            .RequireTopicAccess(TopicAction.Read).RequireRateLimiting(RateLimiting.EventsPolicy).WithStreamSocketDocs();
        group.MapGet("/ingest/{topic}", IngestSocketEndpoint.HandleAsync).WithName("IngestEventsOverWebSocket").WithMetadata(QueryStringTokenAllowed.Instance)
            .RequireTopicAccess(TopicAction.Write).RequireRateLimiting(RateLimiting.EventsPolicy).WithIngestSocketDocs();
        return app;
    }
}
