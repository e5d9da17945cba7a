using EventPlatform.SchemaRegistry.Schemas;

namespace EventPlatform.SchemaRegistry.Protobuf;

internal static class ProtobufCompatibility
{
    public static IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedProtobufSchema reader, ParsedProtobufSchema writer) => [];
}
