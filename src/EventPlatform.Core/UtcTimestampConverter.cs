using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventPlatform.Core;

/// <summary>Writes every timestamp of the API as ISO 8601 UTC with a 'Z' (2024-01-15T10:30:00Z), as the seed shows them.</summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset().ToUniversalTime();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime);
}
