using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The JSON Schema schema type (drafts 4, 6, 7, 2019-09 and 2020-12): keyword checking,
/// <c>$ref</c> resolution through Confluent references, and Confluent's compatibility rules.
/// </summary>
public sealed class JsonSchemaFormat : ISchemaFormat
{
    /// <summary>The shared instance (the format is stateless).</summary>
    public static JsonSchemaFormat Instance { get; } = new();

    /// <inheritdoc/>
    public SchemaType Type => SchemaType.JSON;

    /// <inheritdoc/>
    public ParsedSchema Parse(string schema, IReadOnlyList<ResolvedReference> references) => ParseJson(schema, references);

    /// <summary>The same as <see cref="Parse"/>, typed: the result offers <see cref="ParsedJsonSchema.Validator"/>.</summary>
    /// <exception cref="InvalidSchemaException">The text is not a valid JSON Schema.</exception>
    public ParsedJsonSchema ParseJson(string schema, IReadOnlyList<ResolvedReference> references)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(references);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(schema);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidSchemaException("Invalid schema: not JSON: " + e.Message, e);
        }

        if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
        {
            throw new InvalidSchemaException($"Invalid schema: a JSON Schema must be an object or a boolean, not {root.ValueKind.ToString().ToLowerInvariant()}");
        }

        try
        {
            var node = SchemaLoader.Load(root, references);
            return new ParsedJsonSchema(node, JsonText.Compact(root), SortedKeys(root));
        }
        catch (InvalidOperationException e)
        {
            // What JsonElement.GetString throws for an escaped lone surrogate ("\ud800") in the schema's text.
            throw new InvalidSchemaException("Invalid schema: " + e.Message, e);
        }
    }

    // Normalized form: object keys in ordinal order at every depth; arrays keep their order (it matters).
    private static string SortedKeys(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSorted(writer, element);
        }

        // Back through JsonText for the same escaping as the canonical text.
        return JsonText.Compact(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteSorted(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteSorted(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteSorted(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
