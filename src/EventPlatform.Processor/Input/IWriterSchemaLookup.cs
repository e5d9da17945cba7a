using EventPlatform.Schemas.Client;

namespace EventPlatform.Processor.Input;

/// <summary>
/// Finds the writer's schema by the id in a record's header. The processor uses the registry
/// through <see cref="SchemaCacheLookup"/>; tests give a dictionary.
/// </summary>
/// <remarks>
/// Throw <see cref="UnknownSchemaException"/> when no schema has the id (the record is rejected) and
/// <see cref="SchemaUnavailableException"/> when the registry cannot answer (the record is not judged:
/// the caller retries it with backoff, since an outage says nothing about the record).
/// Implementations must be thread-safe.
/// </remarks>
public interface IWriterSchemaLookup
{
    /// <summary>The schema with the registry's global id <paramref name="id"/>.</summary>
    ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken);
}

/// <summary>The registry, through the shared <see cref="SchemaCache"/> (ids never change, so each is fetched once).</summary>
public sealed class SchemaCacheLookup(SchemaCache cache) : IWriterSchemaLookup
{
    /// <inheritdoc />
    public ValueTask<SubjectSchema> ByIdAsync(int id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return cache.ByIdAsync(id);
    }
}
