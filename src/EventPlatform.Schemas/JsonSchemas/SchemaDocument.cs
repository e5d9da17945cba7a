using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>The JSON Schema drafts whose keywords we read.</summary>
internal enum Draft
{
    Draft4 = 4,
    Draft6 = 6,
    Draft7 = 7,
    Draft2019 = 2019,
    Draft2020 = 2020,
}

/// <summary>One schema text taking part in a parse: the schema itself or a referenced schema.</summary>
internal sealed class SchemaDocument
{
    public SchemaDocument(string? referenceName, JsonElement root)
    {
        ReferenceName = referenceName;
        Root = root;
        if (root.ValueKind == JsonValueKind.Object)
        {
            Id = StringMember(root, "$id") ?? StringMember(root, "id");
            if (Id is not null && Uri.TryCreate(Id, UriKind.Absolute, out var baseUri))
            {
                BaseUri = baseUri;
            }

            Draft = DraftOf(StringMember(root, "$schema"));
        }
    }

    /// <summary>The Confluent reference name this document was registered under; null for the schema being parsed.</summary>
    public string? ReferenceName { get; }

    /// <summary>The root value, cloned so it outlives the parser's buffers.</summary>
    public JsonElement Root { get; }

    /// <summary>The root's <c>$id</c> (draft 4: <c>id</c>).</summary>
    public string? Id { get; }

    /// <summary>The root's <c>$id</c> when it is an absolute URI: the base for relative <c>$ref</c>s.</summary>
    public Uri? BaseUri { get; }

    /// <summary>The draft named by <c>$schema</c>; draft-07 (Confluent's default) when absent or unknown.</summary>
    public Draft Draft { get; } = Draft.Draft7;

    /// <summary>Text for messages: where a schema location is.</summary>
    public string Describe(string pointer) => ReferenceName is null ? pointer : $"{ReferenceName}{pointer}";

    private static Draft DraftOf(string? schemaUri) => schemaUri switch
    {
        null => Draft.Draft7,
        _ when schemaUri.Contains("draft-04", StringComparison.Ordinal) => Draft.Draft4,
        _ when schemaUri.Contains("draft-06", StringComparison.Ordinal) => Draft.Draft6,
        _ when schemaUri.Contains("2019-09", StringComparison.Ordinal) => Draft.Draft2019,
        _ when schemaUri.Contains("2020-12", StringComparison.Ordinal) => Draft.Draft2020,
        _ => Draft.Draft7,
    };

    private static string? StringMember(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
