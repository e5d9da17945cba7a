using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// Reads Avro schema JSON per the specification: full names from <c>name</c> and the enclosing
/// or explicit <c>namespace</c>, references to named types defined earlier (or enclosing, for
/// recursion), field defaults and aliases, enum defaults. Logical types resolve as their underlying type.
/// </summary>
internal sealed partial class AvroSchemaParser
{
    private static readonly Dictionary<string, AvroPrimitiveSchema> Primitives = new[]
    {
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    }.ToDictionary(n => n, n => new AvroPrimitiveSchema(n), StringComparer.Ordinal);

    private readonly Dictionary<string, AvroNamedSchema> _named = new(StringComparer.Ordinal);

    // Defaults are checked once the whole schema is read: a default may use a record whose
    // fields were not all read yet when the field declaring it was.
    private readonly List<(AvroRecordSchema Record, AvroField Field)> _defaults = [];

    /// <summary>
    /// Parses <paramref name="json"/> after <paramref name="references"/> (dependencies first), whose
    /// named types it may use. The result also says which named types came from the references.
    /// </summary>
    public static (AvroSchema Schema, IReadOnlySet<string> ReferencedNames) Parse(string json, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(references);
        var parser = new AvroSchemaParser();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in references)
        {
            // A transitive list may hold a shared dependency twice (a diamond); it is defined once.
            if (seen.Add(reference))
            {
                parser.ReadDocument(reference, "A referenced schema");
            }
        }

        var referencedNames = new HashSet<string>(parser._named.Keys, StringComparer.Ordinal);
        return (parser.ReadDocument(json, "The schema"), referencedNames);
    }

    private AvroSchema ReadDocument(string json, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new AvroSchemaParseException($"{what} is not valid JSON: " + e.Message, e);
        }

        using (document)
        {
            var schema = Read(document.RootElement, enclosingNamespace: null);
            foreach (var (record, field) in _defaults)
            {
                var problem = AvroDefaults.Problem(field.Type, field.Default!.Value);
                if (problem is not null)
                {
                    throw new AvroSchemaParseException($"The default of field '{field.Name}' of record '{record.FullName}' is invalid: {problem}.");
                }
            }

            _defaults.Clear();
            return schema;
        }
    }

    private AvroSchema Read(JsonElement element, string? enclosingNamespace) => element.ValueKind switch
    {
        JsonValueKind.String => Reference(element.GetString()!, enclosingNamespace),
        JsonValueKind.Array => ReadUnion(element, enclosingNamespace),
        JsonValueKind.Object => ReadObject(element, enclosingNamespace),
        _ => throw new AvroSchemaParseException($"A schema must be a string, an array or an object, not {element.ValueKind}."),
    };

    private AvroSchema Reference(string name, string? enclosingNamespace)
    {
        if (Primitives.TryGetValue(name, out var primitive))
        {
            return primitive;
        }

        var fullName = FullName(name, enclosingNamespace);
        if (_named.TryGetValue(fullName, out var named) || _named.TryGetValue(name, out named))
        {
            return named;
        }

        throw new AvroSchemaParseException($"Unknown type '{name}'.");
    }

    private AvroUnionSchema ReadUnion(JsonElement element, string? enclosingNamespace)
    {
        var branches = element.EnumerateArray().Select(b => Read(b, enclosingNamespace)).ToList();
        if (branches.Any(b => b is AvroUnionSchema))
        {
            throw new AvroSchemaParseException("A union may not directly contain another union.");
        }

        // The specification allows one branch per unnamed type and per named type's full name.
        var keys = branches.Select(b => b is AvroNamedSchema n ? n.FullName : b.TypeName).ToList();
        var duplicate = keys.GroupBy(k => k, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new AvroSchemaParseException($"A union has more than one branch of type '{duplicate.Key}'.");
        }

        return new AvroUnionSchema(branches);
    }

    private AvroSchema ReadObject(JsonElement element, string? enclosingNamespace)
    {
        if (!element.TryGetProperty("type", out var typeElement))
        {
            throw new AvroSchemaParseException("A schema object has no 'type'.");
        }

        if (typeElement.ValueKind != JsonValueKind.String)
        {
            // {"type": {...}} or {"type": [...]} wraps another schema.
            return Read(typeElement, enclosingNamespace);
        }

        var type = typeElement.GetString()!;
        if (Primitives.ContainsKey(type) && ReadLogicalType(element) is { } logical)
        {
            return new AvroPrimitiveSchema(type, logical);
        }

        switch (type)
        {
            case "record" or "error":
                return ReadRecord(element, enclosingNamespace);
            case "enum":
                return ReadEnum(element, enclosingNamespace);
            case "fixed":
                return ReadFixed(element, enclosingNamespace);
            case "array":
                return new AvroArraySchema(Read(Required(element, "items", "array"), enclosingNamespace));
            case "map":
                return new AvroMapSchema(Read(Required(element, "values", "map"), enclosingNamespace));
            default:
                return Reference(type, enclosingNamespace);
        }
    }

    private AvroRecordSchema ReadRecord(JsonElement element, string? enclosingNamespace)
    {
        var (fullName, space, aliases) = ReadName(element, enclosingNamespace, "record");
        var record = new AvroRecordSchema(fullName, aliases);
        Register(record);

        var fields = Required(element, "fields", "record");
        if (fields.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaParseException($"The 'fields' of record '{fullName}' must be an array.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in fields.EnumerateArray())
        {
            if (field.ValueKind != JsonValueKind.Object)
            {
                throw new AvroSchemaParseException($"A field of record '{fullName}' is not an object.");
            }

            var name = RequiredString(field, "name", $"field of record '{fullName}'");
            ValidateName(name);
            if (!names.Add(name))
            {
                throw new AvroSchemaParseException($"Record '{fullName}' has more than one field named '{name}'.");
            }

            var type = Read(Required(field, "type", $"field '{name}'"), space);
            var fieldAliases = StringArray(field, "aliases", $"field '{name}'");
            JsonElement? defaultValue = field.TryGetProperty("default", out var d) ? d.Clone() : null;
            var added = new AvroField(name, fieldAliases, type, defaultValue);
            record.AddField(added);
            if (defaultValue.HasValue)
            {
                _defaults.Add((record, added));
            }
        }

        return record;
    }

    private AvroEnumSchema ReadEnum(JsonElement element, string? enclosingNamespace)
    {
        var (fullName, _, aliases) = ReadName(element, enclosingNamespace, "enum");
        var symbols = StringArray(element, "symbols", $"enum '{fullName}'");
        if (!element.TryGetProperty("symbols", out _))
        {
            throw new AvroSchemaParseException($"Enum '{fullName}' has no 'symbols'.");
        }

        if (symbols.Distinct(StringComparer.Ordinal).Count() != symbols.Count)
        {
            throw new AvroSchemaParseException($"Enum '{fullName}' repeats a symbol.");
        }

        string? defaultSymbol = null;
        if (element.TryGetProperty("default", out var defaultElement))
        {
            defaultSymbol = defaultElement.ValueKind == JsonValueKind.String ? defaultElement.GetString() : null;
            if (defaultSymbol is null || !symbols.Contains(defaultSymbol, StringComparer.Ordinal))
            {
                throw new AvroSchemaParseException($"The default of enum '{fullName}' must be one of its symbols.");
            }
        }

        var schema = new AvroEnumSchema(fullName, aliases, symbols, defaultSymbol);
        Register(schema);
        return schema;
    }

    private AvroFixedSchema ReadFixed(JsonElement element, string? enclosingNamespace)
    {
        var (fullName, _, aliases) = ReadName(element, enclosingNamespace, "fixed");
        var size = Required(element, "size", $"fixed '{fullName}'");
        if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt32(out var bytes) || bytes < 0)
        {
            throw new AvroSchemaParseException($"The 'size' of fixed '{fullName}' must be a non-negative integer.");
        }

        var schema = new AvroFixedSchema(fullName, aliases, bytes, ReadLogicalType(element));
        Register(schema);
        return schema;
    }

    // Like Avro's Java parser, a malformed annotation is kept as written but never fails the schema.
    private static AvroLogicalType? ReadLogicalType(JsonElement element)
    {
        if (!element.TryGetProperty("logicalType", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return new AvroLogicalType(name.GetString()!, OptionalInt(element, "precision"), OptionalInt(element, "scale"));
    }

    private static int? OptionalInt(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : null;

    private static (string FullName, string? Namespace, IReadOnlyList<string> Aliases) ReadName(
        JsonElement element, string? enclosingNamespace, string what)
    {
        var name = RequiredString(element, "name", what);
        string? space = enclosingNamespace;
        if (element.TryGetProperty("namespace", out var ns))
        {
            space = ns.ValueKind switch
            {
                JsonValueKind.String => ns.GetString(),
                JsonValueKind.Null => null,
                _ => throw new AvroSchemaParseException($"The 'namespace' of {what} '{name}' must be a string."),
            };
        }

        var fullName = FullName(name, space);
        foreach (var part in fullName.Split('.'))
        {
            ValidateName(part);
        }

        var typeNamespace = fullName.Contains('.', StringComparison.Ordinal) ? fullName[..fullName.LastIndexOf('.')] : null;
        var aliases = StringArray(element, "aliases", $"{what} '{fullName}'").Select(a => FullName(a, typeNamespace)).ToList();
        return (fullName, typeNamespace, aliases);
    }

    private void Register(AvroNamedSchema schema)
    {
        if (Primitives.ContainsKey(schema.FullName))
        {
            throw new AvroSchemaParseException($"'{schema.FullName}' is a primitive type's name.");
        }

        if (!_named.TryAdd(schema.FullName, schema))
        {
            throw new AvroSchemaParseException($"The type '{schema.FullName}' is defined more than once.");
        }
    }

    private static string FullName(string name, string? space) =>
        name.Contains('.', StringComparison.Ordinal) || string.IsNullOrEmpty(space) ? name : space + "." + name;

    private static void ValidateName(string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new AvroSchemaParseException($"'{name}' is not a valid Avro name.");
        }
    }

    private static JsonElement Required(JsonElement element, string property, string what) =>
        element.TryGetProperty(property, out var value)
            ? value
            : throw new AvroSchemaParseException($"The {what} has no '{property}'.");

    private static string RequiredString(JsonElement element, string property, string what)
    {
        var value = Required(element, property, what);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new AvroSchemaParseException($"The '{property}' of the {what} must be a string.");
    }

    private static List<string> StringArray(JsonElement element, string property, string what)
    {
        if (!element.TryGetProperty(property, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            throw new AvroSchemaParseException($"The '{property}' of {what} must be an array of strings.");
        }

        return value.EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
