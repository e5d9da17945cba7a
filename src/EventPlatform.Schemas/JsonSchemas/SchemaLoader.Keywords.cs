using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>Reading and checking each keyword's value.</summary>
internal sealed partial class SchemaLoader
{
    // Patterns come from schema authors and run on every event: bound the damage of a slow one.
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    private const int CompiledPatternsPerSchema = 256;

    private int patternCount;

    private void ReadKeywords(SchemaNode node, SchemaDocument document, JsonElement schema, string pointer)
    {
        var at = node.Location;
        var refOverrides = document.Draft <= Draft.Draft7 && schema.TryGetProperty("$ref", out _);
        bool? draft4ExclusiveMinimum = null, draft4ExclusiveMaximum = null;
        foreach (var keyword in schema.EnumerateObject())
        {
            var value = keyword.Value;
            var name = keyword.Name;
            var child = $"{pointer}/{EscapePointer(name)}";
            if (refOverrides && name is not ("$ref" or "title" or "description" or "$schema" or "$id" or "id" or "definitions" or "$defs"))
            {
                // Drafts 4-7 ignore a $ref's siblings.
                continue;
            }

            switch (name)
            {
                case "$ref":
                    node.RefText = String(value, name, at);
                    node.RefOverridesSiblings = refOverrides;
                    pendingRefs.Enqueue((node, document));
                    break;
                case "$id" or "id" when value.ValueKind == JsonValueKind.String || name == "$id":
                    node.Id = String(value, name, at);
                    break;
                case "title":
                    node.Title = String(value, name, at);
                    break;
                case "description":
                    node.Description = String(value, name, at);
                    break;
                case "$schema" or "$comment" or "$anchor":
                    _ = String(value, name, at);
                    break;
                case "default":
                    node.Default = value;
                    break;
                case "definitions" or "$defs":
                    _ = SchemaMap(document, value, name, at, child);
                    break;
                case "type":
                    node.Types = Types(value, at);
                    break;
                case "enum":
                    node.Enum = Array(value, name, at).EnumerateArray().ToArray();
                    node.EnumStrings = node.Enum.All(e => e.ValueKind == JsonValueKind.String)
                        ? node.Enum.Select(e => Encoding.UTF8.GetBytes(e.GetString()!)).ToArray()
                        : null;
                    break;
                case "const":
                    node.Const = value;
                    break;
                case "properties":
                    var properties = SchemaMap(document, value, name, at, child);
                    node.Properties = new PropertyTable(properties.Keys.ToArray(), properties.Values.ToArray());
                    break;
                case "patternProperties":
                    node.PatternProperties = SchemaMap(document, value, name, at, child)
                        .Select(p => new PatternSchema(p.Key, Regex(p.Key, name, at), p.Value)).ToArray();
                    break;
                case "additionalProperties":
                    node.AdditionalProperties = Compile(document, value, child);
                    break;
                case "propertyNames":
                    node.PropertyNames = Compile(document, value, child);
                    break;
                case "required":
                    node.Required = Strings(value, name, at);
                    node.RequiredUtf8 = node.Required.Select(Encoding.UTF8.GetBytes).ToArray();
                    break;
                case "minProperties":
                    node.MinProperties = Count(value, name, at);
                    break;
                case "maxProperties":
                    node.MaxProperties = Count(value, name, at);
                    break;
                case "dependencies":
                    ReadDependencies(node, document, value, child, arraysAllowed: true, schemasAllowed: true);
                    break;
                case "dependentRequired":
                    ReadDependencies(node, document, value, child, arraysAllowed: true, schemasAllowed: false);
                    break;
                case "dependentSchemas":
                    ReadDependencies(node, document, value, child, arraysAllowed: false, schemasAllowed: true);
                    break;
                case "items" when value.ValueKind == JsonValueKind.Array:
                    node.TupleItems = SchemaList(document, value, name, at, child);
                    break;
                case "items":
                    node.Items = Compile(document, value, child);
                    break;
                case "prefixItems":
                    node.TupleItems = SchemaList(document, value, name, at, child);
                    break;
                case "additionalItems":
                    node.AdditionalItems = Compile(document, value, child);
                    break;
                case "contains":
                    node.Contains = Compile(document, value, child);
                    break;
                case "minItems":
                    node.MinItems = Count(value, name, at);
                    break;
                case "maxItems":
                    node.MaxItems = Count(value, name, at);
                    break;
                case "uniqueItems":
                    node.UniqueItems = Boolean(value, name, at);
                    break;
                case "minLength":
                    node.MinLength = Count(value, name, at);
                    break;
                case "maxLength":
                    node.MaxLength = Count(value, name, at);
                    break;
                case "pattern":
                    node.Pattern = Regex(String(value, name, at), name, at);
                    break;
                case "format":
                    node.Format = String(value, name, at);
                    node.FormatCheck = StringFormats.For(node.Format);
                    break;
                case "minimum":
                    node.Minimum = Number(value, name, at);
                    break;
                case "maximum":
                    node.Maximum = Number(value, name, at);
                    break;
                case "exclusiveMinimum" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    draft4ExclusiveMinimum = value.GetBoolean();
                    break;
                case "exclusiveMinimum":
                    node.ExclusiveMinimum = Number(value, name, at);
                    break;
                case "exclusiveMaximum" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    draft4ExclusiveMaximum = value.GetBoolean();
                    break;
                case "exclusiveMaximum":
                    node.ExclusiveMaximum = Number(value, name, at);
                    break;
                case "multipleOf":
                    node.MultipleOf = MultipleOf(value, at);
                    break;
                case "allOf":
                    node.AllOf = SchemaList(document, value, name, at, child, nonEmpty: true);
                    break;
                case "anyOf":
                    node.AnyOf = SchemaList(document, value, name, at, child, nonEmpty: true);
                    break;
                case "oneOf":
                    node.OneOf = SchemaList(document, value, name, at, child, nonEmpty: true);
                    break;
                case "not":
                    node.Not = Compile(document, value, child);
                    break;
                case "if":
                    node.If = Compile(document, value, child);
                    break;
                case "then":
                    node.Then = Compile(document, value, child);
                    break;
                case "else":
                    node.Else = Compile(document, value, child);
                    break;
            }
        }

        // Draft 4: a boolean exclusiveMinimum/Maximum makes minimum/maximum exclusive.
        if (draft4ExclusiveMinimum == true)
        {
            (node.ExclusiveMinimum, node.Minimum) = (node.Minimum ?? throw Invalid(at, "exclusiveMinimum: true needs minimum"), null);
        }

        if (draft4ExclusiveMaximum == true)
        {
            (node.ExclusiveMaximum, node.Maximum) = (node.Maximum ?? throw Invalid(at, "exclusiveMaximum: true needs maximum"), null);
        }

        if (node.TupleItems is not null && schema.TryGetProperty("prefixItems", out _) && schema.TryGetProperty("items", out var rest))
        {
            // 2020-12: "items" next to "prefixItems" is the schema of the items after the prefix.
            if (rest.ValueKind == JsonValueKind.Array)
            {
                throw Invalid(at, "items must be a schema when prefixItems is present");
            }

            node.AdditionalItems = node.Items;
            node.Items = null;
        }
    }

    private void ReadDependencies(SchemaNode node, SchemaDocument document, JsonElement value, string pointer, bool arraysAllowed, bool schemasAllowed)
    {
        var keyword = pointer[(pointer.LastIndexOf('/') + 1)..];
        var required = new List<DependentRequired>(node.DependentRequired);
        var schemas = new List<DependentSchema>(node.DependentSchemas);
        foreach (var entry in Object(value, keyword, node.Location).EnumerateObject())
        {
            var utf8 = Encoding.UTF8.GetBytes(entry.Name);
            if (arraysAllowed && entry.Value.ValueKind == JsonValueKind.Array)
            {
                var names = Strings(entry.Value, $"{keyword}/{entry.Name}", node.Location);
                required.Add(new(entry.Name, utf8, names, names.Select(Encoding.UTF8.GetBytes).ToArray()));
            }
            else if (schemasAllowed)
            {
                schemas.Add(new(entry.Name, utf8, Compile(document, entry.Value, $"{pointer}/{EscapePointer(entry.Name)}")));
            }
            else
            {
                throw Invalid(node.Location, $"{keyword}/{entry.Name} must be an array of property names");
            }
        }

        node.DependentRequired = required.ToArray();
        node.DependentSchemas = schemas.ToArray();
    }

    private Dictionary<string, SchemaNode> SchemaMap(SchemaDocument document, JsonElement value, string keyword, string at, string pointer)
    {
        var map = new Dictionary<string, SchemaNode>(StringComparer.Ordinal);
        foreach (var entry in Object(value, keyword, at).EnumerateObject())
        {
            map[entry.Name] = Compile(document, entry.Value, $"{pointer}/{EscapePointer(entry.Name)}");
        }

        return map;
    }

    private SchemaNode[] SchemaList(SchemaDocument document, JsonElement value, string keyword, string at, string pointer, bool nonEmpty = false)
    {
        var items = Array(value, keyword, at);
        if (nonEmpty && items.GetArrayLength() == 0)
        {
            throw Invalid(at, $"{keyword} must be a non-empty array of schemas");
        }

        var schemas = new SchemaNode[items.GetArrayLength()];
        for (var i = 0; i < schemas.Length; i++)
        {
            schemas[i] = Compile(document, items[i], $"{pointer}/{i}");
        }

        return schemas;
    }

    private static JsonTypes Types(JsonElement value, string at)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return TypeName(value.GetString()!, at);
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            throw Invalid(at, "type must be a type name or a non-empty array of type names");
        }

        var types = JsonTypes.None;
        foreach (var item in value.EnumerateArray())
        {
            var type = item.ValueKind == JsonValueKind.String ? TypeName(item.GetString()!, at)
                : throw Invalid(at, "type must be a type name or a non-empty array of type names");
            if ((types & type) == type && type != JsonTypes.None)
            {
                throw Invalid(at, $"type lists '{item.GetString()}' twice");
            }

            types |= type;
        }

        return types;
    }

    private static JsonTypes TypeName(string name, string at) => name switch
    {
        "null" => JsonTypes.Null,
        "boolean" => JsonTypes.Boolean,
        "object" => JsonTypes.Object,
        "array" => JsonTypes.Array,
        "number" => JsonTypes.Number,
        "string" => JsonTypes.String,
        "integer" => JsonTypes.Integer,
        _ => throw Invalid(at, $"unknown type '{name}' (expected null, boolean, object, array, number, string or integer)"),
    };

    private static string[] Strings(JsonElement value, string keyword, string at)
    {
        var items = Array(value, keyword, at);
        var strings = new string[items.GetArrayLength()];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = items[i].ValueKind == JsonValueKind.String ? items[i].GetString()!
                : throw Invalid(at, $"{keyword} must be an array of strings, but item {i} is {Describe(items[i].ValueKind)}");
        }

        return strings;
    }

    private static int Count(JsonElement value, string keyword, string at) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && d >= 0 && d <= int.MaxValue && Math.Floor(d) == d
            ? (int)d
            : throw Invalid(at, $"{keyword} must be a non-negative integer");

    private static double Number(JsonElement value, string keyword, string at) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw Invalid(at, $"{keyword} must be a number");

    private static decimal MultipleOf(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var m) && m > 0
            ? m
            : throw Invalid(at, "multipleOf must be a number greater than 0");

    private static bool Boolean(JsonElement value, string keyword, string at) =>
        value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw Invalid(at, $"{keyword} must be a boolean");

    private static string String(JsonElement value, string keyword, string at) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid(at, $"{keyword} must be a string, not {Describe(value.ValueKind)}");

    private static JsonElement Array(JsonElement value, string keyword, string at) =>
        value.ValueKind == JsonValueKind.Array ? value : throw Invalid(at, $"{keyword} must be an array, not {Describe(value.ValueKind)}");

    private static JsonElement Object(JsonElement value, string keyword, string at) =>
        value.ValueKind == JsonValueKind.Object ? value : throw Invalid(at, $"{keyword} must be an object, not {Describe(value.ValueKind)}");

    private Regex Regex(string pattern, string keyword, string at)
    {
        try
        {
            // Compiling a pattern to IL costs far more than reading it: past the first few hundred in one
            // schema (a 4 MB schema can hold 100,000), patterns are interpreted.
            return ++patternCount <= CompiledPatternsPerSchema
                ? PatternCache.GetOrCreate(pattern, PatternTimeout)
                : new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw Invalid(at, $"{keyword} '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}
