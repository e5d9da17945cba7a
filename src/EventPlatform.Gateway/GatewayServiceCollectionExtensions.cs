using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway.Api;
using EventPlatform.Gateway.Auth;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Gateway.Streaming;
using EventPlatform.Hosting.Errors;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway;

/// <summary>Registration and routes of the ingestion gateway.</summary>
public static class GatewayServiceCollectionExtensions
{
    public const string KafkaClientId = "eventplatform-gateway";

    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddPlatformKafka(configuration, KafkaClientId);
        services.AddTopicPlanProvisioning();
        services.AddGatewayAuthentication(configuration);

        services.AddSingleton<ServiceUptime>();
        services.AddSingleton<SchemaRegistryProbe>();
        services.AddSingleton(sp => new TopicRouter(sp.GetRequiredService<TopicPlan>(), sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DynamicTopics));
        services.AddSingleton<TopicEnsurer>();
        services.AddSingleton<EventPublisher>();
        services.AddSingleton<EventIngestor>();
        services.AddGatewayStreaming(configuration);
        return services;
    }

    /// <summary>The middleware pipeline and every route of the gateway.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseRequestIds();
        app.UseApiErrors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthApi();
        app.MapEventsApi();
        app.MapStreamingApi();
        return app;
    }
}
