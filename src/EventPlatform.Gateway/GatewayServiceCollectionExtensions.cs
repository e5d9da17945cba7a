using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway.Api;
using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Gateway.Auth;
using EventPlatform.Gateway.Idempotency;
using EventPlatform.Gateway.Protection;
using EventPlatform.Gateway.Metrics;
using EventPlatform.Gateway.Publishing;
using EventPlatform.Gateway.Schemas;
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
        services.AddGatewayRateLimiting(configuration);
        services.AddGatewayCors(configuration);
        services.AddGatewayAuditLog(configuration);
        services.AddGatewayMetrics();

        services.AddSingleton<ServiceUptime>();
        services.AddSingleton<SchemaRegistryProbe>();
        services.AddSingleton(sp => new TopicRouter(sp.GetRequiredService<TopicPlan>(), sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DynamicTopics));
        services.AddSingleton<TopicEnsurer>();
        services.AddSingleton<EventPublisher>();
        services.AddGatewaySchemas(configuration);
        services.AddSingleton<EventIngestor>();
        services.AddSingleton(sp =>
        {
            var limits = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new EventTimeBounds(sp.GetRequiredService<TimeProvider>(), limits.TimestampMaxAhead, limits.TimestampMaxAge);
        });

        services.AddOptions<IdempotencyOptions>().Bind(configuration.GetSection(IdempotencyOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IdempotencyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyStore>());
        services.AddSingleton<IdempotentPublisher>();
        services.AddGatewayApiDocs();
        services.AddGatewayStreaming(configuration);
        return services;
    }

    /// <summary>The middleware pipeline and every route of the gateway.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseGatewayMetrics();
        app.UseRequestIds();
        app.UseAuditLog();
        app.UseApiErrors();
        app.UseCors();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapApiDocs();
        app.MapHealthApi();
        app.MapEventsApi().WithEventMetrics();
        app.MapStreamingApi();
        return app;
    }
}
