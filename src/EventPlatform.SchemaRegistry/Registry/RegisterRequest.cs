using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The body of Confluent's register, lookup and compatibility requests. Newer clients also send
/// <c>metadata</c> and <c>ruleSet</c>, which are kept with the schema; <c>id</c> and <c>version</c>
/// are honored in IMPORT mode.
/// </summary>
public sealed class RegisterRequest
{
    /// <summary>The schema text.</summary>
    [JsonPropertyName("schema")]
    public string? Schema { get; set; }

    /// <summary>AVRO (default), JSON or PROTOBUF.</summary>
    [JsonPropertyName("schemaType")]
    public string? SchemaType { get; set; }

    /// <summary>References to other registered schemas.</summary>
    [JsonPropertyName("references")]
    public List<ReferenceDto>? References { get; set; }

    /// <summary>Confluent's metadata (tags, properties, sensitive), kept verbatim.</summary>
    [JsonPropertyName("metadata")]
    public JsonElement? Metadata { get; set; }

    /// <summary>Confluent's data-contract rules, kept verbatim.</summary>
    [JsonPropertyName("ruleSet")]
    public JsonElement? RuleSet { get; set; }

    /// <summary>The id to register under (IMPORT mode).</summary>
    [JsonPropertyName("id")]
    public int? Id { get; set; }

    /// <summary>The version to register as (IMPORT mode).</summary>
    [JsonPropertyName("version")]
    public int? Version { get; set; }
}
