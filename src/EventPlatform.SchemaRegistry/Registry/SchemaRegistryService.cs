using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;
using EventPlatform.Schemas;
using Microsoft.Extensions.Options;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// Confluent Schema Registry's operations with Confluent's semantics and errors, over the state
/// in <see cref="KafkaSchemaLog"/>. Reads answer from this instance's state; writes are serialized
/// per instance, checked against the log's end, appended, and confirmed once read back.
/// </summary>
public sealed class SchemaRegistryService(KafkaSchemaLog log, SchemaFormats formats, IOptions<RegistryOptions> options)
{
    // Another instance may take the version we proposed; each lost race is retried on the new state.
    private const int MaxWriteAttempts = 25;

    // What one request can make a format read through references (each is read under its own name).
    private const int MaxResolvedReferences = 1_000;
    private const long MaxReferencedText = 32L * 1024 * 1024;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly ConcurrentDictionary<int, ParsedSchema> _parsedById = new();
    private readonly TimeSpan _writeTimeout = options.Value.WriteTimeout;

    /// <summary>The formats this registry accepts.</summary>
    public SchemaFormats Formats => formats;

    // ---- subjects and versions ----

    /// <summary>Subjects with a live version (or any version when <paramref name="deleted"/>).</summary>
    public IReadOnlyList<string> Subjects(bool deleted, string? prefix) => log.Read(s => s.SubjectNames
        .Where(name => (prefix is null || name.StartsWith(prefix, StringComparison.Ordinal)) && s.Versions(name).Any(v => deleted || !v.Deleted))
        .Order(StringComparer.Ordinal)
        .ToList());

    /// <summary>A subject's version numbers.</summary>
    public IReadOnlyList<int> Versions(string subject, bool deleted)
    {
        var versions = log.Read(s => s.Versions(subject).Where(v => deleted || !v.Deleted).Select(v => v.Version).ToList());
        return versions.Count == 0 ? throw RegistryErrors.SubjectNotFound(subject) : versions;
    }

    /// <summary>A version by number, or <c>latest</c> / <c>-1</c>.</summary>
    public SubjectVersion Version(string subject, string version, bool deleted) => log.Read(s => FindVersion(s, subject, version, deleted));

    /// <summary>
    /// The latest version whose <c>metadata.properties</c> hold every given pair (Confluent's
    /// <c>GET /subjects/{s}/metadata</c>, used by newer clients' <c>use.latest.with.metadata</c>).
    /// </summary>
    public SubjectVersion LatestWithMetadata(string subject, IReadOnlyList<KeyValuePair<string, string>> properties, bool deleted) => log.Read(s =>
    {
        var versions = s.Versions(subject).Where(v => deleted || !v.Deleted).ToList();
        if (versions.Count == 0)
        {
            throw RegistryErrors.SubjectNotFound(subject);
        }

        return versions.LastOrDefault(v => properties.All(p => HasProperty(v.Content.Metadata, p.Key, p.Value)))
            ?? throw RegistryErrors.SchemaNotFound();
    });

    private static bool HasProperty(JsonElement? metadata, string key, string value) =>
        metadata is { ValueKind: JsonValueKind.Object } m
        && m.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object
        && props.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.ValueEquals(value);

    /// <summary>The ids of schemas that reference this version.</summary>
    public IReadOnlyList<int> ReferencedBy(string subject, string version) => log.Read(s =>
    {
        var target = FindVersion(s, subject, version, deleted: true);
        return s.AllVersions.Where(v => !v.Deleted && v.Content.References.Any(r => r.Subject == subject && r.Version == target.Version))
            .Select(v => v.Id).Distinct().Order().ToList();
    });

    /// <summary>Registers a schema under a subject, or returns the version that already holds it.</summary>
    public async Task<SubjectVersion> RegisterAsync(string subject, RegisterRequest request, bool normalize, CancellationToken cancellationToken) =>
        (await RegisterWithOutcomeAsync(subject, request, normalize, cancellationToken).ConfigureAwait(false)).Version;

    /// <summary>Registers a schema; also says whether a new version was made (false: it was already there).</summary>
    public async Task<(SubjectVersion Version, bool Created)> RegisterWithOutcomeAsync(string subject, RegisterRequest request, bool normalize, CancellationToken cancellationToken)
    {
        ValidateSubject(subject);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_writeTimeout);
        await _writes.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await SyncAsync(timeout.Token).ConfigureAwait(false);
                var (existing, proposal) = log.Read(s => Plan(s, subject, request, normalize));
                if (existing is not null)
                {
                    return (existing, false);
                }

                await AppendAsync(SchemaKey(proposal!), JsonSerializer.SerializeToUtf8Bytes(LogRecordMapping.ToValue(proposal!), LogJsonContext.Default.SchemaValue), timeout.Token).ConfigureAwait(false);
                var stored = log.Read(s => s.Version(subject, proposal!.Version));
                if (stored?.Writer == proposal!.Writer)
                {
                    return (stored, true);
                }

                if (attempt == MaxWriteAttempts)
                {
                    throw RegistryErrors.StoreError($"Registering under '{subject}' lost {attempt} races with other registry instances; retry.");
                }

                // A short random pause, so that two instances racing for the same subject fall out of step.
                await Task.Delay(Random.Shared.Next(1, 10 * attempt), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw RegistryErrors.Timeout("Register operation timed out");
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The version of the subject that holds this schema.</summary>
    public SubjectVersion Lookup(string subject, RegisterRequest request, bool normalize, bool deleted)
    {
        var (content, parsed) = Prepare(request, normalize, log.Read(s => ResolveReferences(s, request)));
        return log.Read(s =>
        {
            var versions = s.Versions(subject).Where(v => deleted || !v.Deleted).ToList();
            if (versions.Count == 0)
            {
                throw RegistryErrors.SubjectNotFound(subject);
            }

            return versions.LastOrDefault(v => Matches(v, content, parsed)) ?? throw RegistryErrors.SchemaNotFound();
        });
    }

    /// <summary>Deletes every version of a subject: soft, or permanently after a soft delete.</summary>
    public async Task<IReadOnlyList<int>> DeleteSubjectAsync(string subject, bool permanent, CancellationToken cancellationToken) =>
        await WriteAsync(
            s =>
            {
                var versions = s.Versions(subject).ToList();
                if (versions.Count == 0)
                {
                    throw RegistryErrors.SubjectNotFound(subject);
                }

                EnsureWritable(s, subject);
                var live = versions.Where(v => !v.Deleted).ToList();
                if (permanent && live.Count > 0)
                {
                    throw RegistryErrors.SubjectNotSoftDeleted(subject);
                }

                if (!permanent && live.Count == 0)
                {
                    throw RegistryErrors.SubjectSoftDeleted(subject);
                }

                var affected = permanent ? versions : live;
                EnsureNotReferenced(s, affected);
                var key = Key(new LogKey { KeyType = permanent ? LogKey.ClearSubject : LogKey.DeleteSubject, Subject = subject });
                var value = JsonSerializer.SerializeToUtf8Bytes(new DeleteSubjectValue { Subject = subject, Version = versions[^1].Version }, LogJsonContext.Default.DeleteSubjectValue);
                return (affected.Select(v => v.Version).ToList(), key, value);
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes one version: soft, or permanently after a soft delete.</summary>
    public async Task<int> DeleteVersionAsync(string subject, string version, bool permanent, CancellationToken cancellationToken) =>
        await WriteAsync(
            s =>
            {
                // "latest" of a soft delete is the latest live version; a number may name a soft-deleted one.
                var target = FindVersion(s, subject, version, deleted: permanent || version is not ("latest" or "-1"));
                EnsureWritable(s, subject);
                if (permanent && !target.Deleted)
                {
                    throw RegistryErrors.VersionNotSoftDeleted(subject, target.Version);
                }

                if (!permanent && target.Deleted)
                {
                    throw RegistryErrors.VersionSoftDeleted(subject, target.Version);
                }

                EnsureNotReferenced(s, [target]);
                var value = permanent ? null : JsonSerializer.SerializeToUtf8Bytes(LogRecordMapping.ToValue(target with { Deleted = true }), LogJsonContext.Default.SchemaValue);
                return (target.Version, SchemaKey(target), value);
            },
            cancellationToken).ConfigureAwait(false);

    // ---- schemas by id ----

    /// <summary>The schema with a global id (optionally only if used by <paramref name="subject"/>).</summary>
    public SchemaContent SchemaById(int id, string? subject) => log.Read(s =>
    {
        var content = s.ContentById(id);
        if (content is null || (!string.IsNullOrEmpty(subject) && !s.VersionsById(id).Any(v => v.Subject == subject)))
        {
            throw RegistryErrors.SchemaNotFound(id);
        }

        return content;
    });

    /// <summary>The parsed schema with a global id, cached: what the gateway's validators are built from.</summary>
    public ParsedSchema ParsedById(int id) => _parsedById.GetOrAdd(id, key =>
    {
        var content = SchemaById(key, null);
        return Parse(content.Type, content.Schema, log.Read(s => ResolveReferences(s, content.References)));
    });

    /// <summary>The subject-version pairs that use a global id.</summary>
    public IReadOnlyList<SubjectVersion> VersionsById(int id, bool deleted)
    {
        var versions = log.Read(s => s.VersionsById(id).Where(v => deleted || !v.Deleted).OrderBy(v => v.Subject, StringComparer.Ordinal).ThenBy(v => v.Version).ToList());
        return versions.Count == 0 && log.Read(s => s.ContentById(id)) is null ? throw RegistryErrors.SchemaNotFound(id) : versions;
    }

    /// <summary>Every version of every subject (GET /schemas).</summary>
    public IReadOnlyList<SubjectVersion> AllSchemas(string? prefix, bool deleted, bool latestOnly) => log.Read(s =>
    {
        var versions = s.AllVersions.Where(v => (deleted || !v.Deleted) && (prefix is null || v.Subject.StartsWith(prefix, StringComparison.Ordinal)));
        if (latestOnly)
        {
            versions = versions.GroupBy(v => v.Subject).Select(g => g.MaxBy(v => v.Version)!);
        }

        return versions.OrderBy(v => v.Subject, StringComparer.Ordinal).ThenBy(v => v.Version).ToList();
    });

    // ---- compatibility ----

    /// <summary>
    /// Checks a schema against one version (<paramref name="version"/> given) or against the versions
    /// the subject's level names (null). Returns Confluent's messages; empty means compatible.
    /// </summary>
    public IReadOnlyList<string> CheckCompatibility(string subject, string? version, RegisterRequest request, bool normalize)
    {
        var references = log.Read(s => ResolveReferences(s, request));
        var (_, parsed) = Prepare(request, normalize, references);
        return log.Read(s =>
        {
            var level = EffectiveLevel(s, subject);
            var live = s.Versions(subject).Where(v => !v.Deleted).ToList();
            if (version is null)
            {
                return Incompatibilities(level, parsed, live);
            }

            var target = FindVersion(s, subject, version, deleted: false);
            var transitiveLatest = version is "latest" or "-1" && level.EndsWith("_TRANSITIVE", StringComparison.Ordinal);
            return Incompatibilities(level, parsed, transitiveLatest ? live : [target]);
        });
    }

    // ---- config and mode ----

    /// <summary>The global configuration.</summary>
    public RegistryConfig GlobalConfig() => log.Read(s => s.GlobalConfig);

    /// <summary>A subject's configuration (or the global one when <paramref name="defaultToGlobal"/>).</summary>
    public RegistryConfig SubjectConfig(string subject, bool defaultToGlobal) => log.Read(s =>
        s.SubjectConfig(subject) ?? (defaultToGlobal ? s.GlobalConfig : throw RegistryErrors.SubjectConfigNotFound(subject)));

    /// <summary>Sets the global (subject null) or a subject's configuration.</summary>
    public async Task<RegistryConfig> SetConfigAsync(string? subject, string? compatibility, bool? normalize, CancellationToken cancellationToken)
    {
        if (!TryParseLevel(compatibility, out var level))
        {
            throw RegistryErrors.InvalidCompatibilityLevel(compatibility);
        }

        if (subject is not null)
        {
            ValidateSubject(subject);
        }

        var config = new RegistryConfig(level.ToString(), normalize);
        var value = JsonSerializer.SerializeToUtf8Bytes(new ConfigValue { CompatibilityLevel = config.CompatibilityLevel, Normalize = normalize }, LogJsonContext.Default.ConfigValue);
        return await WriteAsync(_ => (config, Key(new LogKey { KeyType = LogKey.Config, Subject = subject })!, (byte[]?)value), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a subject's configuration; returns the one removed.</summary>
    public async Task<RegistryConfig> DeleteConfigAsync(string subject, CancellationToken cancellationToken) =>
        await WriteAsync(
            s => (s.SubjectConfig(subject) ?? throw RegistryErrors.SubjectConfigNotFound(subject), Key(new LogKey { KeyType = LogKey.Config, Subject = subject }), (byte[]?)null),
            cancellationToken).ConfigureAwait(false);

    /// <summary>The global mode.</summary>
    public RegistryMode GlobalMode() => log.Read(s => s.GlobalMode);

    /// <summary>A subject's mode (or the global one when <paramref name="defaultToGlobal"/>).</summary>
    public RegistryMode SubjectMode(string subject, bool defaultToGlobal) => log.Read(s =>
        s.SubjectMode(subject) ?? (defaultToGlobal ? s.GlobalMode : throw RegistryErrors.SubjectModeNotFound(subject)));

    /// <summary>Sets the global (subject null) or a subject's mode.</summary>
    public async Task<RegistryMode> SetModeAsync(string? subject, string? mode, bool force, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<RegistryMode>(mode, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(mode, out _))
        {
            throw RegistryErrors.InvalidMode(mode);
        }

        var value = JsonSerializer.SerializeToUtf8Bytes(new ModeValue { Mode = parsed.ToString() }, LogJsonContext.Default.ModeValue);
        return await WriteAsync(
            s =>
            {
                // Confluent: IMPORT only into an empty registry (or subject) unless forced.
                var hasSchemas = subject is null ? s.AllVersions.Any() : s.Versions(subject).Count > 0;
                if (parsed == RegistryMode.IMPORT && hasSchemas && !force)
                {
                    throw RegistryErrors.NotPermitted("Cannot import since found existing subjects");
                }

                return (parsed, Key(new LogKey { KeyType = LogKey.Mode, Subject = subject }), (byte[]?)value);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a subject's mode; returns the one removed.</summary>
    public async Task<RegistryMode> DeleteModeAsync(string subject, CancellationToken cancellationToken) =>
        await WriteAsync(
            s => (s.SubjectMode(subject) ?? throw RegistryErrors.SubjectModeNotFound(subject), Key(new LogKey { KeyType = LogKey.Mode, Subject = subject }), (byte[]?)null),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Parses a compatibility level name (case-insensitive).</summary>
    public static bool TryParseLevel(string? name, out CompatibilityLevel level) =>
        Enum.TryParse(name, ignoreCase: true, out level) && Enum.IsDefined(level) && !int.TryParse(name, out _);

    // ---- internals ----

    private (SubjectVersion? Existing, SubjectVersion? Proposal) Plan(RegistryState s, string subject, RegisterRequest request, bool normalize)
    {
        EnsureWritable(s, subject);
        var references = ResolveReferences(s, request);
        var (content, parsed) = Prepare(request, normalize || NormalizeConfigured(s, subject), references);
        var versions = s.Versions(subject).ToList();
        var import = s.EffectiveMode(subject) == RegistryMode.IMPORT;

        if (!import)
        {
            // Already registered (and live) under this subject: the same answer again, no new version.
            var same = versions.LastOrDefault(v => !v.Deleted && Matches(v, content, parsed));
            if (same is not null)
            {
                return (same, null);
            }

            if (request.Id is { } wanted && s.ContentById(wanted) is { } holder && !holder.SameAs(content))
            {
                throw RegistryErrors.IdDoesNotMatch(wanted);
            }

            var problems = Incompatibilities(EffectiveLevel(s, subject), parsed, versions.Where(v => !v.Deleted).ToList());
            if (problems.Count > 0)
            {
                throw RegistryErrors.Incompatible(subject, "[" + string.Join(", ", problems) + "]");
            }
        }

        var id = request.Id ?? s.IdOf(content) ?? s.MaxId + 1;
        if (import && s.ContentById(id) is { } existingContent && !existingContent.SameAs(content))
        {
            throw RegistryErrors.IdDoesNotMatch(id);
        }

        var version = import && request.Version is { } v ? v : (versions.Count == 0 ? 1 : versions[^1].Version + 1);
        if (import && s.Version(subject, version) is { } taken)
        {
            if (taken.Id == id && taken.Content.SameAs(content))
            {
                return (taken, null);
            }

            throw RegistryErrors.NotPermitted($"Version {version} of subject '{subject}' already exists with another schema");
        }

        return (null, new SubjectVersion(subject, version, id, content, Deleted: false, Writer: Guid.NewGuid().ToString("N")));
    }

    private (SchemaContent Content, ParsedSchema Parsed) Prepare(RegisterRequest request, bool normalize, IReadOnlyList<ResolvedReference> references)
    {
        if (string.IsNullOrWhiteSpace(request.Schema))
        {
            throw RegistryErrors.InvalidSchema("Empty schema");
        }

        if (!LogRecordMapping.TryParseType(request.SchemaType, out var type) || formats.Find(type) is null)
        {
            throw RegistryErrors.InvalidSchema($"Invalid schema type {request.SchemaType}; supported: {string.Join(", ", formats.Types)}");
        }

        var parsed = Parse(type, request.Schema, references);
        var refs = (request.References ?? []).Select(r => new SchemaReference(r.Name!, r.Subject!, r.Version!.Value)).ToList();
        var text = normalize ? parsed.NormalizedText : parsed.CanonicalText;
        return (new SchemaContent(type, text, refs, NullIfJsonNull(request.Metadata), NullIfJsonNull(request.RuleSet)), parsed);
    }

    private ParsedSchema Parse(SchemaType type, string text, IReadOnlyList<ResolvedReference> references)
    {
        try
        {
            return formats.Find(type)!.Parse(text, references);
        }
        catch (InsufficientExecutionStackException)
        {
            throw RegistryErrors.InvalidSchema($"Invalid schema {Truncate(text)} of type {type}, details: {SchemaLimits.TooDeep("parsing").Message}");
        }
        catch (InvalidOperationException e)
        {
            // Text a JSON reader refuses to turn into a string (an escaped lone surrogate) is the schema's fault.
            throw RegistryErrors.InvalidSchema($"Invalid schema {Truncate(text)} of type {type}, details: {e.Message}");
        }
        catch (InvalidSchemaException e)
        {
            throw RegistryErrors.InvalidSchema($"Invalid schema {Truncate(text)} with refs [{string.Join(", ", references.Select(r => $"{r.Name}:{r.Subject}/{r.Version}"))}] of type {type}, details: {e.Message}");
        }
    }

    // A comparison too deep or too costly to finish (see SchemaLimits) refuses the new schema as invalid.
    private static IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedSchema reader, ParsedSchema writer)
    {
        try
        {
            return reader.ReadIncompatibilities(writer);
        }
        catch (InvalidSchemaException e)
        {
            throw RegistryErrors.InvalidSchema(e.Message);
        }
        catch (InsufficientExecutionStackException)
        {
            throw RegistryErrors.InvalidSchema(SchemaLimits.TooDeep("comparing with an earlier version").Message);
        }
    }

    private static JsonElement? NullIfJsonNull(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.Clone() : null;

    // The same schema written differently (key order, whitespace, full or short names) is the same
    // schema, as Confluent compares parsed schemas. Metadata and rules count when the request
    // carries them (Confluent: other metadata, other version).
    private bool Matches(SubjectVersion version, SchemaContent candidate, ParsedSchema parsed)
    {
        var stored = version.Content;
        return stored.Type == candidate.Type
            && stored.References.SequenceEqual(candidate.References)
            && (string.Equals(stored.Schema, candidate.Schema, StringComparison.Ordinal)
                || string.Equals(ParsedById(version.Id).NormalizedText, parsed.NormalizedText, StringComparison.Ordinal))
            && SameExtras(stored, candidate);
    }

    private static bool SameExtras(SchemaContent stored, SchemaContent candidate) =>
        (candidate.Metadata is null || SchemaContent.JsonEquals(stored.Metadata, candidate.Metadata))
        && (candidate.RuleSet is null || SchemaContent.JsonEquals(stored.RuleSet, candidate.RuleSet));

    private IReadOnlyList<ResolvedReference> ResolveReferences(RegistryState s, RegisterRequest request)
    {
        var references = new List<SchemaReference>();
        foreach (var r in request.References ?? [])
        {
            if (string.IsNullOrEmpty(r.Name) || string.IsNullOrEmpty(r.Subject) || r.Version is null)
            {
                throw RegistryErrors.InvalidSchema("Invalid schema reference: name, subject and version are required");
            }

            references.Add(new SchemaReference(r.Name, r.Subject, r.Version.Value));
        }

        return ResolveReferences(s, references);
    }

    private static List<ResolvedReference> ResolveReferences(RegistryState s, IReadOnlyList<SchemaReference> references)
    {
        // Depth-first, dependencies before dependents, each name once. A version reached again under
        // another name (a diamond of references) is listed under that name too, but its own references
        // are walked only once: a lattice of diamonds must not cost exponentially many visits.
        var resolved = new List<ResolvedReference>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var walked = new HashSet<(string Subject, int Version)>();
        void Visit(SchemaReference reference, int depth)
        {
            if (depth > 32)
            {
                throw RegistryErrors.InvalidSchema("Schema references nest deeper than 32 levels");
            }

            if (!seen.Add(reference.Name))
            {
                return;
            }

            var version = (reference.Version == -1
                ? s.Versions(reference.Subject).LastOrDefault(v => !v.Deleted)
                : s.Version(reference.Subject, reference.Version))
                ?? throw RegistryErrors.InvalidSchema($"Invalid schema reference {reference.Name}: subject '{reference.Subject}' version {reference.Version} not found");
            if (walked.Add((version.Subject, version.Version)))
            {
                foreach (var inner in version.Content.References)
                {
                    Visit(inner, depth + 1);
                }
            }

            resolved.Add(new ResolvedReference(reference.Name, reference.Subject, version.Version, version.Content.Schema));
        }

        foreach (var reference in references)
        {
            Visit(reference, 0);
        }

        // Each format reads every reference under its own name: bound what one request can make it read.
        if (resolved.Count > MaxResolvedReferences)
        {
            throw RegistryErrors.InvalidSchema($"A schema may use at most {MaxResolvedReferences} references (transitively), not {resolved.Count}");
        }

        if (resolved.Sum(r => (long)r.Schema.Length) > MaxReferencedText)
        {
            throw RegistryErrors.InvalidSchema($"The schemas a schema references may hold at most {MaxReferencedText} characters in all");
        }

        return resolved;
    }

    private List<string> Incompatibilities(string level, ParsedSchema candidate, IReadOnlyList<SubjectVersion> live)
    {
        if (!TryParseLevel(level, out var parsedLevel) || parsedLevel == CompatibilityLevel.NONE || live.Count == 0)
        {
            return [];
        }

        var transitive = level.EndsWith("_TRANSITIVE", StringComparison.Ordinal);
        var backward = parsedLevel is CompatibilityLevel.BACKWARD or CompatibilityLevel.BACKWARD_TRANSITIVE or CompatibilityLevel.FULL or CompatibilityLevel.FULL_TRANSITIVE;
        var forward = parsedLevel is CompatibilityLevel.FORWARD or CompatibilityLevel.FORWARD_TRANSITIVE or CompatibilityLevel.FULL or CompatibilityLevel.FULL_TRANSITIVE;
        var messages = new List<string>();
        // Confluent checks newest first and reports the first version that fails.
        foreach (var previous in (transitive ? live : [live[^1]]).Reverse())
        {
            var old = ParsedById(previous.Id);
            var found = new List<string>();
            if (old.Type != candidate.Type)
            {
                found.Add(Describe("TYPE_MISMATCH", "/", $"The new schema is {candidate.Type} but version {previous.Version} is {old.Type}"));
            }
            else
            {
                if (backward)
                {
                    found.AddRange(ReadIncompatibilities(candidate, old).Select(x => Describe(x.Kind, x.Location, $"{x.Message} (the new schema cannot read data written with version {previous.Version})")));
                }

                if (forward)
                {
                    found.AddRange(ReadIncompatibilities(old, candidate).Select(x => Describe(x.Kind, x.Location, $"{x.Message} (version {previous.Version} cannot read data written with the new schema)")));
                }
            }

            if (found.Count > 0)
            {
                messages.AddRange(found);
                messages.Add($"{{oldSchemaVersion: {previous.Version}}}");
                messages.Add($"{{oldSchema: '{Truncate(previous.Content.Schema)}'}}");
                messages.Add($"{{compatibility: '{level}'}}");
                break;
            }
        }

        return messages;
    }

    private static string Describe(string kind, string location, string description) =>
        $"{{errorType:'{kind}', description:'{description}', location:'{location}'}}";

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000] + "...";

    private static string EffectiveLevel(RegistryState s, string subject) =>
        (s.SubjectConfig(subject)?.CompatibilityLevel ?? s.GlobalConfig.CompatibilityLevel ?? "BACKWARD").ToUpperInvariant();

    private static bool NormalizeConfigured(RegistryState s, string subject) =>
        s.SubjectConfig(subject)?.Normalize ?? s.GlobalConfig.Normalize ?? false;

    private static void EnsureWritable(RegistryState s, string subject)
    {
        if (s.EffectiveMode(subject) is RegistryMode.READONLY or RegistryMode.READONLY_OVERRIDE)
        {
            throw RegistryErrors.NotPermitted($"Subject {subject} is in read-only mode");
        }
    }

    private static void EnsureNotReferenced(RegistryState s, IReadOnlyList<SubjectVersion> targets)
    {
        foreach (var target in targets)
        {
            var referrer = s.AllVersions.FirstOrDefault(v => !targets.Contains(v) && v.Content.References.Any(r => r.Subject == target.Subject && r.Version == target.Version));
            if (referrer is not null)
            {
                throw RegistryErrors.ReferenceExists($"One or more references exist to the schema {{subject={target.Subject},version={target.Version}}} (referenced by {referrer.Subject} version {referrer.Version}, id {referrer.Id})");
            }
        }
    }

    private static SubjectVersion FindVersion(RegistryState s, string subject, string version, bool deleted)
    {
        var versions = s.Versions(subject);
        if (versions.Count == 0)
        {
            throw RegistryErrors.SubjectNotFound(subject);
        }

        if (version is "latest" or "-1")
        {
            return versions.LastOrDefault(v => deleted || !v.Deleted) ?? throw RegistryErrors.VersionNotFound(subject, version);
        }

        if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw RegistryErrors.InvalidVersion(version);
        }

        var found = s.Version(subject, number);
        return found is null || (found.Deleted && !deleted) ? throw RegistryErrors.VersionNotFound(subject, version) : found;
    }

    private static void ValidateSubject(string subject)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Any(char.IsControl) || subject.Length > 1024)
        {
            throw RegistryErrors.InvalidSubject(subject);
        }
    }

    private static byte[] Key(LogKey key) => JsonSerializer.SerializeToUtf8Bytes(key, LogJsonContext.Default.LogKey);

    private static byte[] SchemaKey(SubjectVersion v) =>
        Key(new LogKey { KeyType = LogKey.Schema, Subject = v.Subject, Version = v.Version, Magic = 1, Writer = v.Writer });

    private Task SyncAsync(CancellationToken cancellationToken) => log.SyncAsync(cancellationToken);

    private Task AppendAsync(byte[] key, byte[]? value, CancellationToken cancellationToken) => log.AppendAsync(key, value, cancellationToken);

    /// <summary>A write decided on the state after reading the log to its end, under this instance's write lock.</summary>
    private async Task<T> WriteAsync<T>(Func<RegistryState, (T Result, byte[] Key, byte[]? Value)> decide, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_writeTimeout);
        await _writes.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            await SyncAsync(timeout.Token).ConfigureAwait(false);
            var (result, key, value) = log.Read(decide);
            await AppendAsync(key, value, timeout.Token).ConfigureAwait(false);
            return result;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw RegistryErrors.Timeout("The operation timed out waiting for the Kafka store");
        }
        finally
        {
            _writes.Release();
        }
    }
}
