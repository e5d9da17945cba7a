using System.Text.Json;
using EventPlatform.Schemas;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>Registry modes, Confluent's names.</summary>
public enum RegistryMode
{
    /// <summary>Reads and writes.</summary>
    READWRITE,

    /// <summary>Reads only: registrations and deletes are refused.</summary>
    READONLY,

    /// <summary>Like READONLY, but also refuses config changes (Confluent's name, accepted and kept).</summary>
    READONLY_OVERRIDE,

    /// <summary>Registrations keep the ids and versions they are given and skip compatibility checks.</summary>
    IMPORT,
}

/// <summary>What a registered schema is: its type, text, references and the optional metadata and rules.</summary>
/// <param name="Type">The schema type.</param>
/// <param name="Schema">The stored text (canonical, or normalized when registered with normalize).</param>
/// <param name="References">The references, in the order given.</param>
/// <param name="Metadata">Confluent's <c>metadata</c> object, kept verbatim.</param>
/// <param name="RuleSet">Confluent's <c>ruleSet</c> object, kept verbatim.</param>
public sealed record SchemaContent(
    SchemaType Type,
    string Schema,
    IReadOnlyList<SchemaReference> References,
    JsonElement? Metadata,
    JsonElement? RuleSet)
{
    /// <summary>Whether two contents are the same registration (type, text, references, metadata, rules).</summary>
    public bool SameAs(SchemaContent other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Type == other.Type
            && string.Equals(Schema, other.Schema, StringComparison.Ordinal)
            && References.SequenceEqual(other.References)
            && JsonEquals(Metadata, other.Metadata)
            && JsonEquals(RuleSet, other.RuleSet);
    }

    /// <summary>Whether two optional JSON values are equal (absent and JSON null alike).</summary>
    internal static bool JsonEquals(JsonElement? a, JsonElement? b) =>
        (a is null || a.Value.ValueKind == JsonValueKind.Null) == (b is null || b.Value.ValueKind == JsonValueKind.Null)
        && (a is null || a.Value.ValueKind == JsonValueKind.Null || JsonElement.DeepEquals(a.Value, b!.Value));
}

/// <summary>One version of a subject.</summary>
/// <param name="Subject">The subject.</param>
/// <param name="Version">The version number (from 1).</param>
/// <param name="Id">The schema's global id.</param>
/// <param name="Content">The schema.</param>
/// <param name="Deleted">Soft-deleted: hidden unless asked for with deleted=true.</param>
/// <param name="Writer">The registry write that created it (tells competing writes apart in the log).</param>
public sealed record SubjectVersion(string Subject, int Version, int Id, SchemaContent Content, bool Deleted, string Writer);

/// <summary>A subject's or the global compatibility configuration.</summary>
/// <param name="CompatibilityLevel">The level, Confluent's name.</param>
/// <param name="Normalize">Whether registrations under it are normalized.</param>
public sealed record RegistryConfig(string? CompatibilityLevel, bool? Normalize);
