using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Turns schema JSON into <see cref="SchemaNode"/>s: checks every keyword's value, compiles each
/// schema location once (so recursive <c>$ref</c>s become cycles in the graph), and resolves
/// <c>$ref</c>s within the document and to the schema's Confluent references.
/// </summary>
internal sealed partial class SchemaLoader
{
    private readonly Dictionary<(SchemaDocument Document, string Pointer), SchemaNode> compiled = [];
    private readonly Queue<(SchemaNode Node, SchemaDocument Document)> pendingRefs = new();
    private readonly IReadOnlyList<ResolvedReference> references;
    private readonly Dictionary<string, SchemaDocument> referenceDocuments = new(StringComparer.Ordinal);
    private readonly Dictionary<SchemaDocument, Dictionary<string, (string Pointer, JsonElement Target)>> anchors = [];
    private readonly Dictionary<(SchemaDocument Document, string Pointer), Dictionary<string, JsonElement>> memberIndexes = [];

    private SchemaLoader(IReadOnlyList<ResolvedReference> references) => this.references = references;

    /// <summary>Compiles the schema whose (cloned) root is <paramref name="root"/>.</summary>
    /// <exception cref="InvalidSchemaException">A keyword has a wrong value or a <c>$ref</c> does not resolve.</exception>
    public static SchemaNode Load(JsonElement root, IReadOnlyList<ResolvedReference> references)
    {
        var loader = new SchemaLoader(references);
        var document = new SchemaDocument(null, root);
        var node = loader.Compile(document, root, "#");
        while (loader.pendingRefs.TryDequeue(out var pending))
        {
            pending.Node.Ref = loader.Resolve(pending.Node.RefText!, pending.Document, pending.Node.Location);
        }

        RefLoops.Reject(loader.compiled.Values);
        return node;
    }

    private SchemaNode Compile(SchemaDocument document, JsonElement element, string pointer)
    {
        if (compiled.TryGetValue((document, pointer), out var existing))
        {
            return existing;
        }

        var node = new SchemaNode { Location = document.Describe(pointer) };
        compiled[(document, pointer)] = node;
        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                node.BooleanValue = true;
                break;
            case JsonValueKind.False:
                node.BooleanValue = false;
                break;
            case JsonValueKind.Object:
                ReadKeywords(node, document, element, pointer);
                break;
            default:
                throw Invalid(node.Location, $"a schema must be a JSON object or a boolean, not {Describe(element.ValueKind)}");
        }

        return node;
    }

    private SchemaNode Resolve(string reference, SchemaDocument from, string location)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        var address = hash < 0 ? reference : reference[..hash];
        var fragment = hash < 0 ? "" : reference[(hash + 1)..];
        var document = address.Length == 0 ? from : FindDocument(address, from)
            ?? throw Invalid(location, $"$ref '{reference}' does not resolve: no schema reference is named '{address}'");

        string pointer;
        JsonElement target;
        if (fragment.Length == 0 || fragment[0] == '/')
        {
            pointer = "#" + fragment;
            target = Navigate(document, fragment)
                ?? throw Invalid(location, $"$ref '{reference}' does not resolve: no value at '{fragment}'");
        }
        else
        {
            (pointer, target) = AnchorsOf(document).TryGetValue(fragment, out var anchored) ? anchored
                : throw Invalid(location, $"$ref '{reference}' does not resolve: no $anchor '{fragment}'");
        }

        return Compile(document, target, pointer);
    }

    private SchemaDocument? FindDocument(string address, SchemaDocument from)
    {
        var absolute = from.BaseUri is not null && Uri.TryCreate(from.BaseUri, address, out var resolved) ? resolved.ToString() : null;
        if (address == from.Id || absolute is not null && absolute == from.BaseUri?.ToString())
        {
            return from;
        }

        foreach (var reference in references)
        {
            if (reference.Name == address || reference.Name == absolute)
            {
                return DocumentOf(reference);
            }
        }

        // A reference registered under another name but identifying itself with that $id.
        foreach (var reference in references)
        {
            var document = DocumentOf(reference);
            if (document.Id is not null && (document.Id == address || document.Id == absolute))
            {
                return document;
            }
        }

        return null;
    }

    private SchemaDocument DocumentOf(ResolvedReference reference)
    {
        if (!referenceDocuments.TryGetValue(reference.Name, out var document))
        {
            try
            {
                using var parsed = JsonDocument.Parse(reference.Schema);
                document = new SchemaDocument(reference.Name, parsed.RootElement.Clone());
            }
            catch (JsonException e)
            {
                throw new InvalidSchemaException($"Invalid schema: referenced schema '{reference.Name}' is not JSON: {e.Message}", e);
            }

            referenceDocuments[reference.Name] = document;
        }

        return document;
    }

    private JsonElement? Navigate(SchemaDocument document, string pointer)
    {
        var current = document.Root;
        if (pointer.Length == 0)
        {
            return current;
        }

        var at = 0;
        foreach (var rawToken in pointer[1..].Split('/'))
        {
            var token = Uri.UnescapeDataString(rawToken).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && TryGetMember(document, pointer[..at], current, token, out var child))
            {
                current = child;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, out var index) && index >= 0 && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }

            at += 1 + rawToken.Length;
        }

        return current;
    }

    // TryGetProperty scans an object's members one by one: 100,000 $refs into one "definitions" object of
    // 100,000 members would cost 10^10 comparisons. Large objects get an index, built once per parse.
    private bool TryGetMember(SchemaDocument document, string pointer, JsonElement obj, string name, out JsonElement member)
    {
        const int IndexFrom = 32;
        if (!memberIndexes.TryGetValue((document, pointer), out var index))
        {
            if (obj.GetPropertyCount() < IndexFrom)
            {
                return obj.TryGetProperty(name, out member);
            }

            index = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in obj.EnumerateObject())
            {
                // JSON allows duplicate names; the last one wins, as TryGetProperty's answer would not be defined.
                index[property.Name] = property.Value;
            }

            memberIndexes[(document, pointer)] = index;
        }

        return index.TryGetValue(name, out member);
    }

    // Every anchor of a document, found in one walk: searching the whole document once per $ref would
    // make 100,000 "#name" references cost 100,000 walks.
    private Dictionary<string, (string Pointer, JsonElement Target)> AnchorsOf(SchemaDocument document)
    {
        if (anchors.TryGetValue(document, out var known))
        {
            return known;
        }

        var found = new Dictionary<string, (string Pointer, JsonElement Target)>(StringComparer.Ordinal);
        // Pre-order, members in document order: the first element with an anchor wins, as in a search.
        var pending = new Stack<(JsonElement Element, string Pointer)>();
        pending.Push((document.Root, "#"));
        while (pending.TryPop(out var next))
        {
            var (element, pointer) = next;
            if (element.ValueKind == JsonValueKind.Object)
            {
                AddAnchor(found, element, "$anchor", prefix: false, pointer);
                AddAnchor(found, element, "$id", prefix: true, pointer);
                AddAnchor(found, element, "id", prefix: true, pointer);
                var members = element.EnumerateObject().ToList();
                for (var i = members.Count - 1; i >= 0; i--)
                {
                    pending.Push((members[i].Value, $"{pointer}/{EscapePointer(members[i].Name)}"));
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                var items = element.EnumerateArray().ToList();
                for (var i = items.Count - 1; i >= 0; i--)
                {
                    pending.Push((items[i], $"{pointer}/{i}"));
                }
            }
        }

        anchors[document] = found;
        return found;
    }

    private static void AddAnchor(Dictionary<string, (string Pointer, JsonElement Target)> found, JsonElement obj, string keyword, bool prefix, string pointer)
    {
        if (obj.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { } text)
        {
            if (!prefix)
            {
                found.TryAdd(text, (pointer, obj));
            }
            else if (text.StartsWith('#'))
            {
                found.TryAdd(text[1..], (pointer, obj));
            }
        }
    }

    internal static string EscapePointer(string token) =>
        token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static InvalidSchemaException Invalid(string location, string message) =>
        new($"Invalid JSON schema at '{location}': {message}");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
