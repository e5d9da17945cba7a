namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// The Protobuf schema type. A schema is .proto text or, as Confluent's serializers send it, a
/// base64 serialized FileDescriptorProto. References are imports: a reference's name is the
/// import path and its schema the imported file (text or base64). google/protobuf/*.proto
/// well-known types are importable without references.
/// </summary>
public sealed class ProtobufFormat : ISchemaFormat
{
    /// <summary>The shared instance (the format is stateless).</summary>
    public static ProtobufFormat Instance { get; } = new();

    /// <inheritdoc/>
    public SchemaType Type => SchemaType.PROTOBUF;

    /// <inheritdoc/>
    public ParsedSchema Parse(string schema, IReadOnlyList<ResolvedReference> references)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(references);
        try
        {
            var set = ProtoFileLoader.Load(schema, references);
            return new ParsedProtobufSchema(set, references);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidSchemaException("Invalid schema: " + e.Message, e);
        }
        catch (Exception e) when (e is not (InvalidSchemaException or OutOfMemoryException or InsufficientExecutionStackException))
        {
            // protobuf-net's parser sees the client's text first: whatever it trips on is the schema's fault.
            throw new InvalidSchemaException("Invalid schema: " + e.Message, e);
        }
    }
}
