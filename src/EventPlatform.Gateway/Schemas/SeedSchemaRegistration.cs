using Confluent.SchemaRegistry;
using EventPlatform.Core.Topics;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.Client;
using EventPlatform.Schemas.JsonSchemas;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventPlatform.Gateway.Schemas;

/// <summary>
/// Registers the seed's schemas when the gateway starts, idempotently (registering a schema a
/// subject already holds returns its id): for each event topic the seed's Avro <c>Event</c> as
/// version 1 and the same record with an optional <c>metadata</c> field as version 2 (a BACKWARD
/// compatible evolution, so the gateway's metadata is kept); for each seed event type the JSON
/// Schema of its payload. A registry that does not answer yet is retried in the background.
/// </summary>
public sealed partial class SeedSchemaRegistration(
    SchemaCache schemas,
    TopicPlan plan,
    IOptions<SchemaOptions> options,
    ILogger<SeedSchemaRegistration> logger) : BackgroundService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(5);

    /// <summary>Completes once every seed schema is registered.</summary>
    public Task Registered => _registered.Task;

    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Tries once before the gateway takes traffic, then keeps trying in the background.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value is { Enabled: true, RegisterSeedSchemas: true })
        {
            await TryRegisterAsync().ConfigureAwait(false);
        }
        else
        {
            _registered.TrySetResult();
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!_registered.Task.IsCompleted && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(RetryEvery, stoppingToken).ConfigureAwait(false);
            await TryRegisterAsync().ConfigureAwait(false);
        }
    }

    private async Task TryRegisterAsync()
    {
        try
        {
            var client = schemas.Client;
            foreach (var topic in plan.Topics.Where(t => t.EventType is not null))
            {
                var subject = SchemaSubjects.Value(topic.Name);
                await client.RegisterSchemaAsync(subject, new Schema(SeedAvroSchemas.Event, SchemaType.Avro)).ConfigureAwait(false);
                await client.RegisterSchemaAsync(subject, new Schema(SeedAvroSchemas.EventWithMetadata, SchemaType.Avro)).ConfigureAwait(false);
                schemas.Invalidate(subject);
            }

            foreach (var (eventType, schema) in SeedPayloadSchemas.ByEventType)
            {
                var subject = SchemaSubjects.Payload(eventType);
                await client.RegisterSchemaAsync(subject, new Schema(schema, SchemaType.Json)).ConfigureAwait(false);
                schemas.Invalidate(subject);
            }

            LogRegistered(logger);
            _registered.TrySetResult();
        }
        catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or AggregateException)
        {
            LogNotYet(logger, e.Message, RetryEvery);
        }
    }

    [LoggerMessage(EventId = 2511, Level = LogLevel.Information, Message = "Seed schemas registered (Avro Event per event topic, JSON Schema per payload type)")]
    private static partial void LogRegistered(ILogger logger);

    [LoggerMessage(EventId = 2512, Level = LogLevel.Warning, Message = "Registering the seed schemas failed ({Reason}); retrying every {Delay}")]
    private static partial void LogNotYet(ILogger logger, string reason, TimeSpan delay);
}
