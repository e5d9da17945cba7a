using System.Text.Json;
using System.Text.Json.Serialization;
using EventPlatform.Schemas;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The key of a record in the registry's Kafka topic. Modeled on Confluent's <c>_schemas</c>
/// keys (keytype, subject, version, magic) plus <c>writer</c>: several registry instances may
/// append competing versions at once; the log's order decides which one counts, and a distinct
/// key per write keeps the winner when the topic is compacted.
/// </summary>
internal sealed class LogKey
{
    [JsonPropertyName("keytype")]
    public string KeyType { get; set; } = "";

    [JsonPropertyName("subject")]
    public string? Subject { get; set; }

    [JsonPropertyName("version")]
    public int? Version { get; set; }

    [JsonPropertyName("magic")]
    public int Magic { get; set; }

    [JsonPropertyName("writer")]
    public string? Writer { get; set; }

    public const string Schema = "SCHEMA";
    public const string Config = "CONFIG";
    public const string Mode = "MODE";
    public const string DeleteSubject = "DELETE_SUBJECT";
    public const string ClearSubject = "CLEAR_SUBJECT";
}

/// <summary>A subject version as stored (Confluent's SchemaValue fields).</summary>
internal sealed class SchemaValue : SchemaBody
{
    [JsonPropertyName("subject")]
    [JsonPropertyOrder(-3)]
    public string Subject { get; set; } = "";

    [JsonPropertyName("version")]
    [JsonPropertyOrder(-2)]
    public int Version { get; set; }

    [JsonPropertyName("id")]
    [JsonPropertyOrder(-1)]
    public int Id { get; set; }

    [JsonPropertyName("deleted")]
    public bool Deleted { get; set; }
}

/// <summary>A schema reference as Confluent's API spells it.</summary>
public sealed class ReferenceDto
{
    /// <summary>The name the referring schema uses.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>The subject holding the referenced schema.</summary>
    [JsonPropertyName("subject")]
    public string? Subject { get; set; }

    /// <summary>The version within that subject.</summary>
    [JsonPropertyName("version")]
    public int? Version { get; set; }
}

/// <summary>A compatibility configuration as stored.</summary>
internal sealed class ConfigValue
{
    [JsonPropertyName("compatibilityLevel")]
    public string? CompatibilityLevel { get; set; }

    [JsonPropertyName("normalize")]
    public bool? Normalize { get; set; }
}

/// <summary>A mode as stored.</summary>
internal sealed class ModeValue
{
    [JsonPropertyName("mode")]
    public string Mode { get; set; } = "";
}

/// <summary>A subject-wide delete as stored: every version up to <see cref="Version"/>.</summary>
internal sealed class DeleteSubjectValue
{
    [JsonPropertyName("subject")]
    public string Subject { get; set; } = "";

    [JsonPropertyName("version")]
    public int Version { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LogKey))]
[JsonSerializable(typeof(SchemaValue))]
[JsonSerializable(typeof(ConfigValue))]
[JsonSerializable(typeof(ModeValue))]
[JsonSerializable(typeof(DeleteSubjectValue))]
internal sealed partial class LogJsonContext : JsonSerializerContext;

/// <summary>Conversions between stored records and the registry's model.</summary>
internal static class LogRecordMapping
{
    public static SchemaValue ToValue(SubjectVersion v) => new()
    {
        Subject = v.Subject,
        Version = v.Version,
        Id = v.Id,
        SchemaType = v.Content.Type == Schemas.SchemaType.AVRO ? null : v.Content.Type.ToString(),
        Schema = v.Content.Schema,
        References = v.Content.References.Count == 0 ? null : [.. v.Content.References.Select(r => new ReferenceDto { Name = r.Name, Subject = r.Subject, Version = r.Version })],
        Metadata = v.Content.Metadata,
        RuleSet = v.Content.RuleSet,
        Deleted = v.Deleted,
    };

    public static SubjectVersion? FromValue(SchemaValue value, string writer)
    {
        if (!TryParseType(value.SchemaType, out var type))
        {
            return null;
        }

        var references = value.References?.Select(r => new SchemaReference(r.Name ?? "", r.Subject ?? "", r.Version ?? 0)).ToList() ?? [];
        return new SubjectVersion(value.Subject, value.Version, value.Id, new SchemaContent(type, value.Schema ?? "", references, value.Metadata, value.RuleSet), value.Deleted, writer);
    }

    /// <summary>Confluent's schemaType: absent means AVRO; names are case-insensitive.</summary>
    public static bool TryParseType(string? name, out SchemaType type)
    {
        if (string.IsNullOrEmpty(name))
        {
            type = Schemas.SchemaType.AVRO;
            return true;
        }

        return Enum.TryParse(name, ignoreCase: true, out type) && Enum.IsDefined(type);
    }
}
