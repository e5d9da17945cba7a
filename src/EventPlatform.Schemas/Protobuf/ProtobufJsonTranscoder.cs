using System.Buffers;
using System.Text.Json;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// Converts Protobuf messages to and from JSON using only a <see cref="ProtobufMessageDescriptor"/>
/// (no generated classes). Thread-safe: descriptors are immutable and no state is kept.
/// </summary>
/// <remarks>
/// JSON follows the proto3 JSON mapping with these choices: property names are the field names
/// as declared in the .proto (like protoc's <c>preserving_proto_field_name</c>; encoding also
/// accepts lowerCamelCase names); 64-bit integers are JSON numbers, not strings (encoding accepts
/// both); proto3 fields without presence that hold their default value are omitted; enum values
/// are names (numbers when the schema does not know them); bytes are base64. Timestamp, Duration,
/// Struct, Value, ListValue and the wrappers have their JSON forms; other well-known types
/// (Any, FieldMask, Empty) are written as ordinary messages. Unknown fields, and known fields
/// with an unexpected wire type, are skipped.
/// </remarks>
public static class ProtobufJsonTranscoder
{
    /// <summary>Writes the message's JSON.</summary>
    /// <exception cref="ProtobufDecodeException">The bytes are not a valid message of this type; names the field.</exception>
    public static void Decode(ReadOnlySpan<byte> message, ProtobufMessageDescriptor descriptor, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(writer);
        ProtobufJsonDecoder.WriteMessage(message, descriptor, writer, depth: 0);
    }

    /// <summary>Writes the message's protobuf bytes.</summary>
    /// <exception cref="ProtobufEncodeException">The JSON does not fit the message type; names the field.</exception>
    public static void Encode(JsonElement json, ProtobufMessageDescriptor descriptor, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(output);
        using var buffer = new ProtoBufferWriter();
        ProtobufJsonEncoder.WriteMessage(json, descriptor, buffer, depth: 0);
        output.Write(buffer.WrittenSpan);
    }
}
