using System.Text.Json.Serialization;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// The body of Confluent's register, lookup and compatibility requests. Newer clients also send
/// <c>metadata</c> and <c>ruleSet</c>, which are kept with the schema; <c>id</c> and <c>version</c>
/// are honored in IMPORT mode.
/// </summary>
public sealed class RegisterRequest : SchemaBody
{
    /// <summary>The id to register under (IMPORT mode).</summary>
    [JsonPropertyName("id")]
    public int? Id { get; set; }

    /// <summary>The version to register as (IMPORT mode).</summary>
    [JsonPropertyName("version")]
    public int? Version { get; set; }
}
