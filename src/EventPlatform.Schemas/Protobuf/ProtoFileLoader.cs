using Google.Protobuf.Reflection;
using ProtoBuf.Reflection;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>
/// Turns a schema and its references into resolved descriptors with protobuf-net's parser.
/// Every input (the schema and each reference) may be .proto text or a base64 serialized
/// FileDescriptorProto; descriptors are rendered back to text first so that one parser
/// validates and resolves both forms the same way.
/// </summary>
internal static class ProtoFileLoader
{
    /// <summary>The file name the schema itself gets (imports cannot name it: references come first).</summary>
    internal const string RootFileName = "<schema>.proto";

    /// <summary>Parses the schema; the returned set's first file is the schema.</summary>
    public static FileDescriptorSet Load(string schema, IReadOnlyList<ResolvedReference> references)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var reference in references)
        {
            files[reference.Name] = ToProtoText(reference.Schema, reference.Name);
        }

        var set = new FileDescriptorSet { FileSystem = new InMemoryFileSystem(files) };
        // An empty import path makes the parser ask the file system for the import path as written.
        set.AddImportPath(string.Empty);
        set.Add(RootFileName, includeInOutput: true, new StringReader(ToProtoText(schema, RootFileName)));
        set.Process();
        var error = set.GetErrors().FirstOrDefault(e => e.IsError);
        if (error is not null)
        {
            throw new InvalidSchemaException(Describe(error));
        }

        return set;
    }

    /// <summary>The text itself, or the rendering of a base64 FileDescriptorProto.</summary>
    private static string ToProtoText(string schema, string fileName)
    {
        if (!LooksLikeBase64(schema))
        {
            ProtoNesting.CheckText(schema, fileName);
            return schema;
        }

        var bytes = Convert.FromBase64String(schema.Trim());
        ProtoNesting.CheckDescriptor(bytes, fileName);
        try
        {
            var descriptor = FileDescriptorSet.Serializer.Deserialize<FileDescriptorProto>(new ReadOnlyMemory<byte>(bytes));
            return ProtoTextWriter.Render(descriptor, ProtoTextStyle.Canonical);
        }
        catch (NotSupportedException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any bytes can arrive here: whatever the deserializer or the renderer trips on is the schema's fault.
            throw new InvalidSchemaException($"Invalid schema {fileName}: not .proto text nor a base64 FileDescriptorProto: {e.Message}", e);
        }
    }

    /// <summary>
    /// .proto text always has a ';' or '{' (except an empty file), which base64 never has.
    /// </summary>
    private static bool LooksLikeBase64(string schema)
    {
        var trimmed = schema.AsSpan().Trim();
        if (trimmed.IsEmpty || trimmed.ContainsAny(';', '{'))
        {
            return false;
        }

        Span<byte> scratch = trimmed.Length <= 4096 ? stackalloc byte[trimmed.Length] : new byte[trimmed.Length];
        return Convert.TryFromBase64Chars(trimmed, scratch, out _);
    }

    private static string Describe(Error error)
    {
        var where = error.File == RootFileName ? string.Empty : $" in import '{error.File}'";
        return $"Invalid schema: {error.Message} (line {error.LineNumber}, column {error.ColumnNumber}{where})";
    }

    /// <summary>The references' texts, by import path.</summary>
    private sealed class InMemoryFileSystem(IReadOnlyDictionary<string, string> files) : IFileSystem
    {
        public bool Exists(string path) => files.ContainsKey(path);

        public TextReader? OpenText(string path) =>
            files.TryGetValue(path, out var text) ? new StringReader(text) : null;
    }
}
