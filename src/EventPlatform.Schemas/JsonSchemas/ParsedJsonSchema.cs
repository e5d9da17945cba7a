namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>A parsed, valid JSON Schema with its compiled instance validator.</summary>
public sealed class ParsedJsonSchema : ParsedSchema
{
    internal ParsedJsonSchema(SchemaNode root, string canonicalText, string normalizedText)
    {
        Root = root;
        CanonicalText = canonicalText;
        NormalizedText = normalizedText;
        Validator = new JsonSchemaValidator(root);
    }

    /// <inheritdoc/>
    public override SchemaType Type => SchemaType.JSON;

    /// <inheritdoc/>
    public override string CanonicalText { get; }

    /// <inheritdoc/>
    public override string NormalizedText { get; }

    /// <summary>The validator for instances of this schema (thread-safe; keep it and reuse it).</summary>
    public JsonSchemaValidator Validator { get; }

    internal SchemaNode Root { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedSchema writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (writer is not ParsedJsonSchema jsonWriter)
        {
            return [new SchemaIncompatibility("TYPE_CHANGED", "#/", $"A {SchemaType.JSON} schema cannot read data written with a {writer.Type} schema.")];
        }

        // Confluent diffs from the original (the writer) to the update (the reader).
        return JsonSchemaDiff.Incompatibilities(original: jsonWriter.Root, update: Root);
    }
}
