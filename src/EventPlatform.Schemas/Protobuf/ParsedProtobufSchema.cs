using Google.Protobuf.Reflection;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// A parsed Protobuf schema: its canonical text, its compatibility rules and, for the codec,
/// its messages (built on first use, then shared by all threads).
/// </summary>
public sealed class ParsedProtobufSchema : ParsedSchema
{
    private readonly Lazy<IReadOnlyList<ProtobufMessageDescriptor>> _messages;

    internal ParsedProtobufSchema(FileDescriptorSet set, IReadOnlyList<ResolvedReference> references)
    {
        Files = set.Files;
        File = set.Files.Single(f => f.Name == ProtoFileLoader.RootFileName);
        References = references;
        CanonicalText = ProtoTextWriter.Render(File, ProtoTextStyle.Canonical);
        NormalizedText = ProtoTextWriter.Render(File, ProtoTextStyle.Normalized);
        _messages = new(() => ProtobufDescriptorBuilder.Build(Files, File));
    }

    /// <inheritdoc/>
    public override SchemaType Type => SchemaType.PROTOBUF;

    /// <summary>
    /// The schema as formatted .proto text: declaration order, standard options in descriptor
    /// order, type names relative to the file's package.
    /// </summary>
    public override string CanonicalText { get; }

    /// <summary>
    /// The canonical text with imports and options sorted by name and every type name fully
    /// qualified (with a leading dot), so equivalent spellings normalize to one text.
    /// </summary>
    public override string NormalizedText { get; }

    /// <summary>The schema's package ("" when none).</summary>
    public string Package => File.Package ?? string.Empty;

    /// <summary>The file's top-level messages, in declaration order (message index 0 first).</summary>
    public IReadOnlyList<ProtobufMessageDescriptor> Messages => _messages.Value;

    /// <summary>The schema's own file descriptor.</summary>
    internal FileDescriptorProto File { get; }

    /// <summary>The schema's file and every file it imports.</summary>
    internal IReadOnlyList<FileDescriptorProto> Files { get; }

    /// <summary>The references the schema was parsed with.</summary>
    internal IReadOnlyList<ResolvedReference> References { get; }

    /// <summary>The message that Confluent message indexes point at.</summary>
    /// <exception cref="ProtobufDecodeException">No message has these indexes.</exception>
    public ProtobufMessageDescriptor GetMessage(ReadOnlySpan<int> indexes) =>
        ProtobufMessageIndexes.Resolve(Messages, indexes);

    /// <summary>The message index path of a message of this file, by full name; null when absent.</summary>
    public IReadOnlyList<int>? GetMessageIndexes(string fullName) =>
        ProtobufMessageIndexes.Find(Messages, fullName);

    /// <inheritdoc/>
    public override IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedSchema writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (writer is not ParsedProtobufSchema protobufWriter)
        {
            return [new SchemaIncompatibility("TYPE_MISMATCH", "#/", $"A {SchemaType.PROTOBUF} schema cannot read data written with a {writer.Type} schema.")];
        }

        return ProtobufCompatibility.ReadIncompatibilities(reader: this, writer: protobufWriter);
    }
}
