using EventPlatform.Schemas.Client;

namespace EventPlatform.Sink.Transformation;

/// <summary>The writer's schema of a wire-format record, by the id in its header.</summary>
public interface ISinkSchemaLookup
{
    /// <exception cref="UnknownSchemaException">The registry has no such schema: the record is bad.</exception>
    /// <exception cref="SchemaUnavailableException">The registry cannot be asked: says nothing about the record.</exception>
    ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken);
}

/// <summary>The registry through the shared <see cref="SchemaCache"/> (ids never change: each is fetched once).</summary>
public sealed class SchemaCacheSinkLookup(SchemaCache cache) : ISinkSchemaLookup
{
    public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken) => cache.ByIdAsync(id);
}
