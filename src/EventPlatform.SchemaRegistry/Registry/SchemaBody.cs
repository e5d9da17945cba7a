using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The fields every schema-carrying body of Confluent's API shares (requests, answers, stored
/// records): the schema's type, text, references, and the metadata and rules of newer clients.
/// </summary>
public abstract class SchemaBody
{
    /// <summary>AVRO (also when absent), JSON or PROTOBUF.</summary>
    [JsonPropertyName("schemaType")]
    public string? SchemaType { get; set; }

    /// <summary>The schema text.</summary>
    [JsonPropertyName("schema")]
    public string? Schema { get; set; }

    /// <summary>References to other registered schemas.</summary>
    [JsonPropertyName("references")]
    public List<ReferenceDto>? References { get; set; }

    /// <summary>Confluent's metadata (tags, properties, sensitive), kept verbatim.</summary>
    [JsonPropertyName("metadata")]
    public JsonElement? Metadata { get; set; }

    /// <summary>Confluent's data-contract rules, kept verbatim.</summary>
    [JsonPropertyName("ruleSet")]
    public JsonElement? RuleSet { get; set; }
}
