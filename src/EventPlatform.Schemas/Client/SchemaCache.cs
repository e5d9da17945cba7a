using System.Collections.Concurrent;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ConfluentSchemaType = Confluent.SchemaRegistry.SchemaType;
using SchemaType = EventPlatform.Schemas.SchemaType;

namespace EventPlatform.Schemas.Client;

/// <summary>
/// A view of the schema registry: the latest schema of each subject and every
/// schema by id, parsed and compiled once, served from memory. Latest versions are looked up
/// again in the background after <see cref="SchemaCacheOptions.RefreshInterval"/>; while the registry
/// is unreachable the last known version keeps serving, so an outage does not stop ingestion
/// (or decoding) for schemas already known. Talks to any Confluent-compatible registry through Confluent's client.
/// Thread-safe; lock-free on the hit path.
/// </summary>
public sealed partial class SchemaCache(
    ISchemaRegistryClient client,
    IOptions<SchemaCacheOptions> options,
    TimeProvider time,
    ILogger<SchemaCache> logger)
{
    private readonly ConcurrentDictionary<string, SubjectEntry> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, Task<SubjectSchema>> _byId = new();
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);
    private readonly TimeSpan _refresh = options.Value.RefreshInterval;

    /// <summary>The registry client (Confluent's), for registrations.</summary>
    public ISchemaRegistryClient Client => client;

    /// <summary>The latest version of a subject, or null when the subject does not exist.</summary>
    /// <exception cref="SchemaUnavailableException">The registry cannot be reached and the subject was never seen.</exception>
    public ValueTask<SubjectSchema?> LatestAsync(string subject)
    {
        if (_latest.TryGetValue(subject, out var entry))
        {
            if (time.GetUtcNow() - entry.FetchedAt > _refresh && entry.TryStartRefresh())
            {
                _ = RefreshAsync(subject, entry);
            }

            return new(entry.Schema);
        }

        return new(FetchLatestAsync(subject));
    }

    /// <summary>The schema with a global id (ids never change, so it is kept for good).</summary>
    /// <exception cref="UnknownSchemaException">The registry has no schema with this id.</exception>
    /// <exception cref="SchemaUnavailableException">The registry cannot be reached.</exception>
    public ValueTask<SubjectSchema> ByIdAsync(int id)
    {
        var task = _byId.GetOrAdd(id, FetchByIdAsync);
        if (task.IsCompletedSuccessfully)
        {
            return new(task.Result);
        }

        return new(AwaitByIdAsync(id, task));
    }

    /// <summary>Forgets a subject's latest version, so the next use looks it up (after a registration).</summary>
    public void Invalidate(string subject)
    {
        _latest.TryRemove(subject, out _);
        client.ClearLatestCaches();
    }

    private async Task<SubjectSchema> AwaitByIdAsync(int id, Task<SubjectSchema> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch
        {
            // Failures are not cached: the next request asks the registry again.
            _byId.TryRemove(new KeyValuePair<int, Task<SubjectSchema>>(id, task));
            throw;
        }
    }

    private async Task<SubjectSchema> FetchByIdAsync(int id)
    {
        Schema schema;
        try
        {
            schema = await client.GetSchemaAsync(id).WaitAsync(options.Value.RequestTimeout).ConfigureAwait(false);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403 || e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new UnknownSchemaException(id);
        }
        catch (Exception e) when (e is not UnknownSchemaException)
        {
            throw new SchemaUnavailableException($"The schema registry did not answer for schema id {id}: {e.Message}", e);
        }

        return await CompileAsync(subject: null, id, version: 0, schema).ConfigureAwait(false);
    }

    private async Task<SubjectSchema?> FetchLatestAsync(string subject)
    {
        var schema = await LookUpLatestAsync(subject).ConfigureAwait(false);
        _latest[subject] = new SubjectEntry(schema, time.GetUtcNow());
        return schema;
    }

    private async Task RefreshAsync(string subject, SubjectEntry stale)
    {
        try
        {
            var schema = await LookUpLatestAsync(subject).ConfigureAwait(false);
            _latest[subject] = new SubjectEntry(schema, time.GetUtcNow());
        }
        catch (SchemaUnavailableException e)
        {
            LogStale(logger, subject, e.Message);
            // Keep serving the known version; ask again a few seconds from now, not on every request.
            _latest[subject] = new SubjectEntry(stale.Schema, time.GetUtcNow() - _refresh + RetryAfterFailure);
        }
    }

    private async Task<SubjectSchema?> LookUpLatestAsync(string subject)
    {
        RegisteredSchema latest;
        try
        {
            latest = await client.GetLatestSchemaAsync(subject).WaitAsync(options.Value.RequestTimeout).ConfigureAwait(false);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode is 40401 or 40402)
        {
            return null;
        }
        catch (Exception e)
        {
            throw new SchemaUnavailableException($"The schema registry did not answer for subject '{subject}': {e.Message}", e);
        }

        return await CompileAsync(subject, latest.Id, latest.Version, latest).ConfigureAwait(false);
    }

    private async Task<SubjectSchema> CompileAsync(string? subject, int id, int version, Schema schema)
    {
        var type = schema.SchemaType switch
        {
            ConfluentSchemaType.Json => SchemaType.JSON,
            ConfluentSchemaType.Protobuf => SchemaType.PROTOBUF,
            _ => SchemaType.AVRO,
        };
        var format = SchemaFormats.All.Find(type) ?? throw new SchemaUnavailableException($"Schema id {id} is of type {type}, which this gateway cannot read.", null);
        var references = await ResolveReferencesAsync(schema.References ?? [], depth: 0).ConfigureAwait(false);
        try
        {
            return new SubjectSchema(subject, id, version, format.Parse(schema.SchemaString, references));
        }
        catch (InvalidSchemaException e)
        {
            throw new SchemaUnavailableException($"Schema id {id} could not be parsed: {e.Message}", e);
        }
    }

    private async Task<List<ResolvedReference>> ResolveReferencesAsync(IEnumerable<Confluent.SchemaRegistry.SchemaReference> references, int depth)
    {
        var resolved = new List<ResolvedReference>();
        foreach (var reference in references)
        {
            if (depth > 32)
            {
                throw new SchemaUnavailableException("Schema references nest deeper than 32 levels.", null);
            }

            var target = await client.GetRegisteredSchemaAsync(reference.Subject, reference.Version).WaitAsync(options.Value.RequestTimeout).ConfigureAwait(false);
            resolved.AddRange(await ResolveReferencesAsync(target.References ?? [], depth + 1).ConfigureAwait(false));
            resolved.Add(new ResolvedReference(reference.Name, reference.Subject, reference.Version, target.SchemaString));
        }

        return resolved;
    }

    private sealed class SubjectEntry(SubjectSchema? schema, DateTimeOffset fetchedAt)
    {
        private int _refreshing;

        public SubjectSchema? Schema { get; } = schema;

        public DateTimeOffset FetchedAt { get; } = fetchedAt;

        public bool TryStartRefresh() => Interlocked.Exchange(ref _refreshing, 1) == 0;
    }

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning, Message = "Schema registry unreachable; still using the known latest version of {Subject}: {Reason}")]
    private static partial void LogStale(ILogger logger, string subject, string reason);
}

/// <summary>The registry could not be asked (and nothing usable is cached).</summary>
public sealed class SchemaUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>The registry has no schema with the id a client's message names.</summary>
public sealed class UnknownSchemaException(int id) : Exception($"The schema registry has no schema with id {id}.")
{
    /// <summary>The id.</summary>
    public int Id { get; } = id;
}
