using EventPlatform.Core.Events;
using EventPlatform.Core.Resilience;
using EventPlatform.Core.Routing;
using EventPlatform.Core.Topics;
using EventPlatform.Gateway.Api;
using EventPlatform.Gateway.Api.OpenApi;
using EventPlatform.Gateway.Auth;
using EventPlatform.Gateway.Backpressure;
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
        services.AddHealthChecks()
            .AddReadinessCheck<KafkaHealthCheck>("kafka")
            .AddReadinessCheck<SchemaRegistryHealthCheck>("schema-registry")
            .AddReadinessCheck<IdempotencyHealthCheck>("idempotency");
        services.AddSingleton(sp => new TopicRouter(sp.GetRequiredService<TopicPlan>(), sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DynamicTopics));
        services.AddSingleton<TopicEnsurer>();
        services.AddSingleton<EventPublisher>();
        services.AddGatewaySchemas(configuration);
        services.AddSingleton<EventIngestor>();
        services.AddSingleton<PublishPipeline>();
        services.AddOptions<DownstreamGuardOptions>().Bind(configuration.GetSection(DownstreamGuardOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DownstreamGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<DownstreamGuard>());
        services.AddSingleton(sp =>
        {
            var limits = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new EventTimeBounds(sp.GetRequiredService<TimeProvider>(), limits.TimestampMaxAhead, limits.TimestampMaxAge);
        });

        services.AddOptions<IdempotencyOptions>().Bind(configuration.GetSection(IdempotencyOptions.SectionName)).ValidateDataAnnotations()
            .Validate<IOptions<GatewayOptions>, IOptions<Kafka.Configuration.KafkaOptions>>(
                (idempotency, gateway, kafka) => !idempotency.Enabled || idempotency.ClaimTimeout > LongestPublish(gateway.Value, kafka.Value),
                "Gateway:Idempotency:ClaimTimeout must be longer than the longest publish (Gateway:PublishMaxAttempts x Kafka:Producer:MessageTimeout plus the backoff delays between attempts): " +
                "a claim that expired while its publish was still running would let a retry write a second copy.")
            .ValidateOnStart();
        services.AddSingleton<IdempotencyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyStore>());
        services.AddSingleton<IdempotentPublisher>();
        services.AddGatewayApiDocs();
        services.AddGatewayStreaming(configuration);
        return services;
    }

    /// <summary>
    /// The longest a publish may take: every attempt runs to the producer's message timeout, with
    /// the largest backoff delays (the seed's formula, jitter at its 10 % top) between them.
    /// </summary>
    internal static TimeSpan LongestPublish(GatewayOptions gateway, Kafka.Configuration.KafkaOptions kafka)
    {
        // The publisher's own backoff, at the top of its jitter, so the two cannot drift apart.
        var backoff = new ExponentialBackoff(gateway.PublishBaseDelay, gateway.PublishMaxDelay);
        var longest = kafka.Producer.MessageTimeout * gateway.PublishMaxAttempts;
        for (var n = 0; n < gateway.PublishMaxAttempts - 1; n++)
        {
            longest += backoff.Delay(n, unitRandom: 1.0);
        }

        return longest;
    }

    /// <summary>The middleware pipeline and every route of the gateway.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseGatewayMetrics();
        app.UseRequestIds();
        app.UseAuditLog();
        app.UseApiErrors();
        app.UseCors();
        app.UseStreamingWebSockets();
        app.UseAuthentication();
        if (app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value.Enabled)
        {
            // Off, every partition would be a no-limiter behind the partitioned limiter's lookup
            // (a lock and a dictionary read per request): leave the middleware out instead.
            app.UseRateLimiter();
        }

        app.UseAuthorization();
        app.MapApiDocs();
        app.MapHealthApi();
        app.MapPlatformHealth();
        app.MapEventsApi().WithEventMetrics();
        app.MapStreamingApi();
        return app;
    }
}
