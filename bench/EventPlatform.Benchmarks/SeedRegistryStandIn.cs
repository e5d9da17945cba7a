using System.Reflection;
using Confluent.SchemaRegistry;
using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;

namespace EventPlatform.Benchmarks;

/// <summary>
/// An in-process stand-in for the schema registry that serves the seed schemas, read-only.
/// Why not the real registry: the schema benchmarks measure the gateway's cache hit path and
/// its validation, not the network; the registry is asked once, in the setup, to fill the cache.
/// Only the lookups the cache makes are answered; anything else throws.
/// </summary>
public class SeedRegistryStandIn : DispatchProxy
{
    /// <summary>The topic the benchmarks publish to.</summary>
    public const string Topic = "events.iot.sensors";

    /// <summary>Where the Protobuf event schema is registered (not a topic's subject, as in the load generator).</summary>
    public const string ProtobufSubject = "bench-protobuf-event";

    private readonly Dictionary<string, RegisteredSchema> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<int, RegisteredSchema> _byId = [];

    /// <summary>A client over the seed: the topic's Event v1 and v2, the payload schemas, the Protobuf Event.</summary>
    public static ISchemaRegistryClient Create()
    {
        var client = Create<ISchemaRegistryClient, SeedRegistryStandIn>();
        var registry = (SeedRegistryStandIn)(object)client;
        registry.Add(Topic + "-value", SeedAvroSchemas.Event, SchemaType.Avro);
        registry.Add(Topic + "-value", SeedAvroSchemas.EventWithMetadata, SchemaType.Avro);
        foreach (var (eventType, schema) in SeedPayloadSchemas.ByEventType)
        {
            registry.Add("payload-" + eventType, schema, SchemaType.Json);
        }

        registry.Add(ProtobufSubject, SeedProtobufSchemas.Event, SchemaType.Protobuf);
        return client;
    }

    private void Add(string subject, string schema, SchemaType type)
    {
        var version = _latest.TryGetValue(subject, out var previous) ? previous.Version + 1 : 1;
        var registered = new RegisteredSchema(subject, version, _byId.Count + 1, schema, type, []);
        _latest[subject] = registered;
        _byId[registered.Id] = registered;
    }

    /// <inheritdoc/>
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        nameof(ISchemaRegistryClient.GetLatestSchemaAsync) => _latest.TryGetValue((string)args![0]!, out var latest)
            ? Task.FromResult(latest)
            : Task.FromException<RegisteredSchema>(new SchemaRegistryException("Subject not found", System.Net.HttpStatusCode.NotFound, 40401)),
        nameof(ISchemaRegistryClient.GetSchemaAsync) when args![0] is int id => _byId.TryGetValue(id, out var byId)
            ? Task.FromResult<Schema>(byId)
            : Task.FromException<Schema>(new SchemaRegistryException("Schema not found", System.Net.HttpStatusCode.NotFound, 40403)),
        nameof(ISchemaRegistryClient.ClearLatestCaches) => null,
        _ => throw new NotSupportedException($"The benchmarks' registry stand-in does not answer {targetMethod?.Name}."),
    };
}
