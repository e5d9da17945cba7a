using System.Text.Json.Serialization;
using EventPlatform.Core;

namespace EventPlatform.Gateway.Api.OpenApi;

/// <summary>Source-generated contracts of the documentation-only models, in the API's snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(EventDocument))]
[JsonSerializable(typeof(EventDocument[]))]
internal sealed partial class ApiDocsJsonContext : JsonSerializerContext;
