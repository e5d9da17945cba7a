using System.Text.Json;
using System.Text.Json.Serialization;
using EventPlatform.Core.Events;

namespace EventPlatform.Gateway.Streaming;

/// <summary>
/// Writes a <see cref="StoredEvent"/> through <see cref="EventJsonWriter"/>, so that the query and
/// the stream show exactly the canonical form that the gateway writes to Kafka.
/// </summary>
public sealed class StoredEventJsonConverter : JsonConverter<StoredEvent>
{
    public override StoredEvent? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var raw = System.Text.Encoding.UTF8.GetBytes(root.GetRawText());
        var read = EventJsonReader.ReadSingle(raw);
        if (read.Result.Event is not { } e)
        {
            throw new JsonException(read.SyntaxError?.Message ?? read.Result.Error?.Describe() ?? "Not an event.");
        }

        return new StoredEvent(e, root.GetProperty("partition").GetInt32(), root.GetProperty("offset").GetInt64());
    }

    public override void Write(Utf8JsonWriter writer, StoredEvent value, JsonSerializerOptions options) =>
        Write(writer, value.Event, value.Partition, value.Offset, frameType: null);

    /// <summary>Writes one event object; with <paramref name="frameType"/>, as a stream frame that starts with <c>"type"</c>.</summary>
    public static void Write(Utf8JsonWriter writer, IngestEvent e, int partition, long offset, string? frameType)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (frameType is not null)
        {
            writer.WriteString("type"u8, frameType);
        }

        EventJsonWriter.WriteFields(writer, e);
        writer.WriteNumber("partition"u8, partition);
        writer.WriteNumber("offset"u8, offset);
        writer.WriteEndObject();
    }
}
