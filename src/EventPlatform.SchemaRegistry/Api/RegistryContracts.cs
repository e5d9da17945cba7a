using System.Text.Json;
using System.Text.Json.Serialization;
using EventPlatform.SchemaRegistry.Registry;

namespace EventPlatform.SchemaRegistry.Api;

/// <summary>A schema as Confluent's API returns it (fields absent when they do not apply).</summary>
public sealed class SchemaResponse : SchemaBody
{
    /// <summary>The subject.</summary>
    [JsonPropertyName("subject")]
    [JsonPropertyOrder(-3)]
    public string? Subject { get; set; }

    /// <summary>The version.</summary>
    [JsonPropertyName("version")]
    [JsonPropertyOrder(-2)]
    public int? Version { get; set; }

    /// <summary>The global id.</summary>
    [JsonPropertyName("id")]
    [JsonPropertyOrder(-1)]
    public int? Id { get; set; }

    /// <summary>Soft-deleted (only listed with deleted=true).</summary>
    [JsonPropertyName("deleted")]
    public bool? Deleted { get; set; }
}

/// <summary>GET /config answers.</summary>
public sealed record ConfigResponse(
    [property: JsonPropertyName("compatibilityLevel")] string? CompatibilityLevel,
    [property: JsonPropertyName("normalize")] bool? Normalize);

/// <summary>PUT /config requests and answers.</summary>
public sealed class ConfigUpdate
{
    /// <summary>The level to set.</summary>
    [JsonPropertyName("compatibility")]
    public string? Compatibility { get; set; }

    /// <summary>Also accepted: the name GET answers with.</summary>
    [JsonPropertyName("compatibilityLevel")]
    public string? CompatibilityLevel { get; set; }

    /// <summary>Whether registrations are normalized.</summary>
    [JsonPropertyName("normalize")]
    public bool? Normalize { get; set; }
}

/// <summary>Mode requests and answers.</summary>
public sealed class ModeBody
{
    /// <summary>The mode.</summary>
    [JsonPropertyName("mode")]
    public string? Mode { get; set; }
}

/// <summary>A compatibility check's answer.</summary>
public sealed record CompatibilityResponse(
    [property: JsonPropertyName("is_compatible")] bool IsCompatible,
    [property: JsonPropertyName("messages")] List<string>? Messages);

/// <summary>A subject-version pair.</summary>
public sealed record SubjectVersionPair(
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("version")] int Version);

/// <summary>Confluent's error body, plus the request id for support.</summary>
public sealed record RegistryError(
    [property: JsonPropertyName("error_code")] int ErrorCode,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("request_id")] string? RequestId);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SchemaResponse))]
[JsonSerializable(typeof(List<SchemaResponse>))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(ConfigResponse))]
[JsonSerializable(typeof(ConfigUpdate))]
[JsonSerializable(typeof(ModeBody))]
[JsonSerializable(typeof(CompatibilityResponse))]
[JsonSerializable(typeof(List<SubjectVersionPair>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<int>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(RegistryError))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext
{
    /// <summary>Responses with only what JSON requires escaped, so schema text stays readable in curl.</summary>
    public static RegistryJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
