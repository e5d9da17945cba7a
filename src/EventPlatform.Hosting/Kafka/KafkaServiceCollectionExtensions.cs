using Confluent.Kafka;
using EventPlatform.Core.Topics;
using EventPlatform.Hosting.Lifetime;
using EventPlatform.Kafka.Configuration;
using EventPlatform.Kafka.Embedded;
using EventPlatform.Kafka.Producing;
using EventPlatform.Kafka.Topics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Hosting.Kafka;

/// <summary>Registers the Kafka pieces a service needs: options, one shared producer, provisioning, health.</summary>
public static class KafkaServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="KafkaOptions"/> (validated at start), a process-wide idempotent producer
    /// with the seed's settings and its metrics (<see cref="KafkaProducerStatistics"/>), a topic
    /// provisioner, a health probe and the <see cref="ServiceFailure"/> that stops the service when
    /// a part fails for good. When an
    /// <see cref="EmbeddedKafkaCluster"/> is registered, topics are made through its API.
    /// </summary>
    public static IServiceCollection AddPlatformKafka(this IServiceCollection services, IConfiguration configuration, string clientId)
    {
        services.AddOptions<KafkaOptions>()
            .Bind(configuration.GetSection(KafkaOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => !o.UsesEmbeddedBroker, "Kafka:BootstrapServers (KAFKA_BOOTSTRAP_SERVERS) must name the cluster; 'up' sets it to the embedded broker.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<KafkaProducerStatistics>();

        services.AddSingleton<IProducer<byte[]?, byte[]>>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Kafka.Producer");
            var statistics = sp.GetRequiredService<KafkaProducerStatistics>();
            var config = KafkaClientConfig.ForProducer(options, clientId, options.BootstrapServers!);
            // Replaced after a fatal error (an idempotent producer then refuses every record until closed).
            // Only the producer in use reports statistics: a failed one is kept (dependents use its handle)
            // and its reports would mix another client's totals into the metrics.
            RecoveringProducer<byte[]?, byte[]>? recovering = null;
            recovering = RecoveringProducer.Create<byte[]?, byte[]>(config, options, logger,
                builder => builder
                    .SetLogHandler((_, m) => KafkaLogging.OnLog(logger, m))
                    .SetStatisticsHandler((p, json) =>
                    {
                        if (recovering?.IsCurrent(p) != false)
                        {
                            statistics.OnStatistics(json);
                        }
                    }),
                e => KafkaLogging.OnError(logger, e));
            recovering.Replaced += _ => statistics.RecordReplacement();
            return recovering;
        });

        services.AddSingleton<KafkaHealthProbe>();
        services.TryAddSingleton<ServiceFailure>();
        services.AddSingleton<ITopicProvisioner>(sp =>
        {
            var embedded = sp.GetService<EmbeddedKafkaCluster>();
            if (embedded is not null)
            {
                return new EmbeddedTopicProvisioner(embedded);
            }

            var options = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var config = KafkaClientConfig.ForAdmin(options, clientId + "-admin", options.BootstrapServers!);
            return AdminTopicProvisioner.Create(config, options.AdminTimeout, options.TopicReadyTimeout, sp.GetRequiredService<ILogger<AdminTopicProvisioner>>());
        });

        services.AddSingleton(sp =>
        {
            var replication = sp.GetRequiredService<IOptions<KafkaOptions>>().Value.ReplicationFactor;
            return replication is { } rf ? TopicPlan.Seed.WithReplicationFactor(rf) : TopicPlan.Seed;
        });

        services.AddHostedService<ProducerFlushService>();
        return services;
    }

    /// <summary>Applies the topic plan at start, before the service takes traffic.</summary>
    public static IServiceCollection AddTopicPlanProvisioning(this IServiceCollection services) =>
        services.AddHostedService<TopicPlanProvisioning>();
}

/// <summary>
/// On shutdown, after the web server has drained its requests, waits for every record still
/// in the producer's queue to be acknowledged.
/// </summary>
internal sealed partial class ProducerFlushService(IServiceProvider services, ILogger<ProducerFlushService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        var producer = services.GetService<IProducer<byte[]?, byte[]>>();
        if (producer is null)
        {
            return Task.CompletedTask;
        }

        return Task.Run(() =>
        {
            var remaining = producer.Flush(TimeSpan.FromSeconds(30));
            if (remaining > 0)
            {
                LogUnflushed(logger, remaining);
            }
            else
            {
                LogFlushed(logger);
            }
        }, CancellationToken.None);
    }

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "Producer flushed: every accepted event is in Kafka")]
    private static partial void LogFlushed(ILogger logger);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Error, Message = "{Remaining} records were still unacknowledged when the producer flush timed out")]
    private static partial void LogUnflushed(ILogger logger, int remaining);
}
