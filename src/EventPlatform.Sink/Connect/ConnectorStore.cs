using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventPlatform.Sink.Connect;

/// <summary>What Kafka Connect calls a connector's target state: what the user asked for, kept with its config.</summary>
public enum ConnectorTargetState
{
    Running,
    Paused,
    Stopped,
}

/// <summary>A connector as stored: its name, its config as given (placeholders kept) and its target state.</summary>
public sealed record StoredConnector(string Name, IReadOnlyDictionary<string, string> Config, ConnectorTargetState State);

/// <summary>What a connector store held when opened.</summary>
/// <param name="Connectors">Every readable stored connector.</param>
/// <param name="Problems">Entries that could not be read (skipped, for the log).</param>
/// <param name="EverWritten">
/// Whether anything was ever stored: the first start of a worker seeds the configured connector,
/// later starts keep what users made of it (deleted stays deleted).
/// </param>
public sealed record ConnectorStoreContents(List<StoredConnector> Connectors, List<string> Problems, bool EverWritten);

/// <summary>
/// Where a Connect worker keeps its connectors' configs and target states: Kafka Connect keeps them
/// in a file in standalone mode and in a compacted topic (<c>config.storage.topic</c>) in distributed
/// mode, where every worker of the group sees every change.
/// </summary>
public interface IConnectorStore : IAsyncDisposable
{
    /// <summary>Where the configs are, for logs and status.</summary>
    string Description { get; }

    /// <summary>
    /// Told the name of a connector whose stored entry changed, by this worker or another (the
    /// worker reconciles its tasks with <see cref="Get"/>). Called on the store's own thread; the
    /// file store, which no other worker shares, never calls it.
    /// </summary>
    Action<string>? Changed { get; set; }

    /// <summary>Reads what is stored (for the Kafka store: the topic, to its end).</summary>
    Task<ConnectorStoreContents> OpenAsync(CancellationToken cancellationToken);

    /// <summary>The stored entry of <paramref name="name"/> as last read, or null.</summary>
    StoredConnector? Get(string name);

    /// <summary>Stores (or replaces) one connector; durable, and visible to <see cref="Get"/>, when it returns.</summary>
    Task SaveAsync(StoredConnector connector, CancellationToken cancellationToken);

    /// <summary>Forgets one connector; durable when it returns.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Marks the store as written, so that a store with every connector deleted is not seeded again.</summary>
    Task MarkWrittenAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Connector configs under the data directory (<c>{data}/connect/</c>), one file each, named by the
/// SHA-256 of the connector's name so that no name (<c>..</c>, <c>/</c>, <c>%00</c>) can reach another
/// path. Each write goes to a temporary file that is flushed and renamed over the old one, so a
/// crash leaves the old config or the new one, never half of either. Kafka Connect's standalone
/// mode: one worker owns the directory. Thread-safe (callers serialise writes of one name; the
/// connector manager holds one lock for all).
/// </summary>
public sealed class ConnectorStore : IConnectorStore
{
    private readonly string _directory;
    private readonly Dictionary<string, StoredConnector> _stored = new(StringComparer.Ordinal);

    public ConnectorStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
    }

    /// <inheritdoc />
    public string Description => "directory " + _directory;

    /// <inheritdoc />
    public Action<string>? Changed { get; set; }

    /// <summary>Where the files are.</summary>
    public string Directory => _directory;

    /// <summary>Whether anything was ever stored (the first start seeds the configured connector).</summary>
    public bool Exists => System.IO.Directory.Exists(_directory);

    /// <summary>Every stored connector; unreadable files are skipped and reported in <paramref name="problems"/>.</summary>
    public List<StoredConnector> Load(out List<string> problems)
    {
        problems = [];
        var connectors = new List<StoredConnector>();
        if (!Exists)
        {
            return connectors;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(_directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                var stored = JsonSerializer.Deserialize(File.ReadAllBytes(file), ConnectStoreJsonContext.Default.StoredConnectorFile);
                if (stored is { Name: { } name, Config: { } config })
                {
                    connectors.Add(new StoredConnector(name, config, stored.State));
                }
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"{file}: {e.Message}");
            }
        }

        return connectors;
    }

    /// <inheritdoc />
    public Task<ConnectorStoreContents> OpenAsync(CancellationToken cancellationToken)
    {
        var everWritten = Exists;
        var connectors = Load(out var problems);
        lock (_stored)
        {
            _stored.Clear();
            foreach (var connector in connectors)
            {
                _stored[connector.Name] = connector;
            }
        }

        return Task.FromResult(new ConnectorStoreContents(connectors, problems, everWritten));
    }

    /// <inheritdoc />
    public StoredConnector? Get(string name)
    {
        lock (_stored)
        {
            return _stored.GetValueOrDefault(name);
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(StoredConnector connector, CancellationToken cancellationToken)
    {
        Save(connector);
        lock (_stored)
        {
            _stored[connector.Name] = connector;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        Delete(name);
        lock (_stored)
        {
            _stored.Remove(name);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task MarkWrittenAsync(CancellationToken cancellationToken)
    {
        Initialise();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Writes (or replaces) one connector atomically.</summary>
    public void Save(StoredConnector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        System.IO.Directory.CreateDirectory(_directory);
        var path = PathOf(connector.Name);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(
            new StoredConnectorFile { Name = connector.Name, Config = new Dictionary<string, string>(connector.Config, StringComparer.Ordinal), State = connector.State },
            ConnectStoreJsonContext.Default.StoredConnectorFile);
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Creates the directory, so that a store with every connector deleted is not seeded again.</summary>
    public void Initialise() => System.IO.Directory.CreateDirectory(_directory);

    public void Delete(string name) => File.Delete(PathOf(name));

    private string PathOf(string name) =>
        Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name))) + ".json");
}

/// <summary>The file's shape.</summary>
internal sealed class StoredConnectorFile
{
    public string? Name { get; set; }

    public Dictionary<string, string>? Config { get; set; }

    public ConnectorTargetState State { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true, WriteIndented = true)]
[JsonSerializable(typeof(StoredConnectorFile))]
internal sealed partial class ConnectStoreJsonContext : JsonSerializerContext;
