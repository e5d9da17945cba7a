using System.Text.Json;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The registry's state as the log's records build it, applied in log order. Every instance
/// applies the same records in the same order with the same rules, so every instance ends in the
/// same state; competing writes are settled here (the first in the log wins). Not thread-safe:
/// the owner serializes access.
/// </summary>
public sealed class RegistryState
{
    private readonly Dictionary<string, SortedDictionary<int, SubjectVersion>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<int, SchemaContent> _contentById = [];
    private readonly Dictionary<string, RegistryConfig> _subjectConfig = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegistryMode> _subjectMode = new(StringComparer.Ordinal);

    private readonly RegistryConfig _defaultConfig;

    /// <summary>Creates an empty state.</summary>
    /// <param name="defaultCompatibility">The level until the log sets a global one (Confluent's default: BACKWARD).</param>
    public RegistryState(string defaultCompatibility = "BACKWARD")
    {
        _defaultConfig = new RegistryConfig(defaultCompatibility, null);
        GlobalConfig = _defaultConfig;
    }

    /// <summary>The global compatibility configuration.</summary>
    public RegistryConfig GlobalConfig { get; private set; }

    /// <summary>The global mode.</summary>
    public RegistryMode GlobalMode { get; private set; } = RegistryMode.READWRITE;

    /// <summary>The highest schema id seen.</summary>
    public int MaxId { get; private set; }

    /// <summary>Records applied (including ones that lost a race and changed nothing).</summary>
    public long RecordsApplied { get; private set; }

    /// <summary>All subjects that have at least one version (live or soft-deleted).</summary>
    public IEnumerable<string> SubjectNames => _subjects.Keys;

    /// <summary>The subject's versions, oldest first (live and soft-deleted), or empty.</summary>
    public IReadOnlyCollection<SubjectVersion> Versions(string subject) =>
        _subjects.TryGetValue(subject, out var versions) ? versions.Values : [];

    /// <summary>The subject's version, if stored (live or soft-deleted).</summary>
    public SubjectVersion? Version(string subject, int version) =>
        _subjects.TryGetValue(subject, out var versions) && versions.TryGetValue(version, out var v) ? v : null;

    /// <summary>The schema with a global id, while any version (live or soft-deleted) uses it.</summary>
    public SchemaContent? ContentById(int id) => _contentById.GetValueOrDefault(id);

    /// <summary>Every version of every subject that uses the id.</summary>
    public IEnumerable<SubjectVersion> VersionsById(int id) =>
        _subjects.Values.SelectMany(v => v.Values).Where(v => v.Id == id);

    /// <summary>Every stored version of every subject.</summary>
    public IEnumerable<SubjectVersion> AllVersions => _subjects.Values.SelectMany(v => v.Values);

    /// <summary>An id already holding exactly this content, if any.</summary>
    public int? IdOf(SchemaContent content)
    {
        foreach (var (id, stored) in _contentById)
        {
            if (stored.SameAs(content))
            {
                return id;
            }
        }

        return null;
    }

    /// <summary>The subject's own configuration, if set.</summary>
    public RegistryConfig? SubjectConfig(string subject) => _subjectConfig.GetValueOrDefault(subject);

    /// <summary>The subject's own mode, if set.</summary>
    public RegistryMode? SubjectMode(string subject) => _subjectMode.TryGetValue(subject, out var mode) ? mode : null;

    /// <summary>The mode that applies to the subject.</summary>
    public RegistryMode EffectiveMode(string subject) => SubjectMode(subject) ?? GlobalMode;

    /// <summary>Applies one record of the log. Records that are not the registry's are ignored.</summary>
    /// <param name="key">The record key.</param>
    /// <param name="value">The record value; null is a tombstone.</param>
    public void Apply(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool tombstone)
    {
        RecordsApplied++;
        LogKey? logKey;
        try
        {
            logKey = JsonSerializer.Deserialize(key, LogJsonContext.Default.LogKey);
        }
        catch (JsonException)
        {
            return;
        }

        if (logKey is null)
        {
            return;
        }

        try
        {
            switch (logKey.KeyType)
            {
                case LogKey.Schema:
                    ApplySchema(logKey, value, tombstone);
                    break;
                case LogKey.Config:
                    ApplyConfig(logKey, value, tombstone);
                    break;
                case LogKey.Mode:
                    ApplyMode(logKey, value, tombstone);
                    break;
                case LogKey.DeleteSubject when logKey.Subject is { } subject && !tombstone:
                    var delete = JsonSerializer.Deserialize(value, LogJsonContext.Default.DeleteSubjectValue);
                    SoftDeleteSubject(subject, delete?.Version ?? int.MaxValue);
                    break;
                case LogKey.ClearSubject when logKey.Subject is { } subject && !tombstone:
                    ClearSubject(subject);
                    break;
            }
        }
        catch (JsonException)
        {
            // A malformed value changes nothing, on every instance alike.
        }
    }

    private void ApplySchema(LogKey key, ReadOnlySpan<byte> value, bool tombstone)
    {
        if (key.Subject is not { } subject || key.Version is not { } version)
        {
            return;
        }

        var writer = key.Writer ?? "";
        var existing = Version(subject, version);
        if (tombstone)
        {
            // A hard delete names the winning write's key; a tombstone for a losing write changes nothing.
            if (existing is not null && existing.Writer == writer)
            {
                RemoveVersion(existing);
            }

            return;
        }

        var stored = JsonSerializer.Deserialize(value, LogJsonContext.Default.SchemaValue);
        if (stored is null || LogRecordMapping.FromValue(stored, writer) is not { } incoming || incoming.Subject != subject || incoming.Version != version || incoming.Id <= 0)
        {
            return;
        }

        if (existing is not null && existing.Writer != writer)
        {
            return; // another write took this version first
        }

        if (_contentById.TryGetValue(incoming.Id, out var holder) && !holder.SameAs(incoming.Content))
        {
            return; // another write took this id for another schema first
        }

        if (!_subjects.TryGetValue(subject, out var versions))
        {
            versions = [];
            _subjects[subject] = versions;
        }

        versions[version] = incoming;
        _contentById[incoming.Id] = incoming.Content;
        MaxId = Math.Max(MaxId, incoming.Id);
    }

    private void ApplyConfig(LogKey key, ReadOnlySpan<byte> value, bool tombstone)
    {
        var config = tombstone ? null : JsonSerializer.Deserialize(value, LogJsonContext.Default.ConfigValue);
        var parsed = config is null ? null : new RegistryConfig(config.CompatibilityLevel, config.Normalize);
        if (key.Subject is null)
        {
            GlobalConfig = parsed ?? _defaultConfig;
        }
        else if (parsed is null)
        {
            _subjectConfig.Remove(key.Subject);
        }
        else
        {
            _subjectConfig[key.Subject] = parsed;
        }
    }

    private void ApplyMode(LogKey key, ReadOnlySpan<byte> value, bool tombstone)
    {
        var stored = tombstone ? null : JsonSerializer.Deserialize(value, LogJsonContext.Default.ModeValue);
        RegistryMode? mode = stored is not null && Enum.TryParse<RegistryMode>(stored.Mode, ignoreCase: true, out var m) ? m : null;
        if (key.Subject is null)
        {
            GlobalMode = mode ?? RegistryMode.READWRITE;
        }
        else if (mode is null)
        {
            _subjectMode.Remove(key.Subject);
        }
        else
        {
            _subjectMode[key.Subject] = mode.Value;
        }
    }

    private void SoftDeleteSubject(string subject, int upToVersion)
    {
        if (!_subjects.TryGetValue(subject, out var versions))
        {
            return;
        }

        foreach (var (number, version) in versions.ToList())
        {
            if (number <= upToVersion && !version.Deleted)
            {
                versions[number] = version with { Deleted = true };
            }
        }
    }

    private void ClearSubject(string subject)
    {
        if (!_subjects.TryGetValue(subject, out var versions))
        {
            return;
        }

        foreach (var version in versions.Values.Where(v => v.Deleted).ToList())
        {
            RemoveVersion(version);
        }
    }

    private void RemoveVersion(SubjectVersion version)
    {
        var versions = _subjects[version.Subject];
        versions.Remove(version.Version);
        if (versions.Count == 0)
        {
            _subjects.Remove(version.Subject);
            _subjectConfig.Remove(version.Subject);
            _subjectMode.Remove(version.Subject);
        }

        if (!AllVersions.Any(v => v.Id == version.Id))
        {
            _contentById.Remove(version.Id);
        }
    }
}
