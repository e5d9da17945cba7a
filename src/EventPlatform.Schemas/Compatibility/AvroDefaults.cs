using System.Text.Json;

namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// Whether a field's default is a valid JSON value of the field's type, by the specification's
/// table of default values: a union's default belongs to its first branch, bytes and fixed are
/// strings of code points 0-255, records give every field without its own default.
/// </summary>
internal static class AvroDefaults
{
    /// <summary>Why <paramref name="value"/> is not a valid default of <paramref name="type"/>, or null when it is.</summary>
    public static string? Problem(AvroSchema type, JsonElement value) => type switch
    {
        AvroUnionSchema union => union.Branches.Count == 0
            ? "an empty union has no values"
            : Within(Problem(union.Branches[0], value), $"a union's default must be a value of its first branch ({union.Branches[0].Describe()})"),
        AvroRecordSchema record => RecordProblem(record, value),
        AvroEnumSchema e => value.ValueKind == JsonValueKind.String && e.Symbols.Contains(value.GetString()!, StringComparer.Ordinal)
            ? null
            : $"expected one of the symbols of {e.Describe()}",
        AvroFixedSchema f => value.ValueKind == JsonValueKind.String && IsByteString(value.GetString()!) && value.GetString()!.Length == f.Size
            ? null
            : $"expected a string of {f.Size} code points 0-255",
        AvroArraySchema a => value.ValueKind == JsonValueKind.Array ? FirstProblem(value.EnumerateArray(), a.Items) : "expected a JSON array",
        AvroMapSchema m => value.ValueKind == JsonValueKind.Object ? FirstProblem(value.EnumerateObject().Select(p => p.Value), m.Values) : "expected a JSON object",
        _ => PrimitiveProblem(type.TypeName, value),
    };

    private static string? PrimitiveProblem(string typeName, JsonElement value) => typeName switch
    {
        "null" => value.ValueKind == JsonValueKind.Null ? null : "expected null",
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "expected true or false",
        "int" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _) ? null : "expected an integer from -2^31 to 2^31-1",
        "long" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _) ? null : "expected an integer from -2^63 to 2^63-1",
        "float" or "double" => value.ValueKind == JsonValueKind.Number || IsNonFinite(value) ? null : "expected a number",
        "string" => value.ValueKind == JsonValueKind.String ? null : "expected a string",
        "bytes" => value.ValueKind == JsonValueKind.String && IsByteString(value.GetString()!) ? null : "expected a string of code points 0-255",
        _ => $"unknown type '{typeName}'",
    };

    private static string? RecordProblem(AvroRecordSchema record, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return $"expected a JSON object for {record.Describe()}";
        }

        foreach (var field in record.Fields)
        {
            if (value.TryGetProperty(field.Name, out var given))
            {
                if (Problem(field.Type, given) is { } problem)
                {
                    return $"field '{field.Name}': {problem}";
                }
            }
            else if (!field.HasDefault)
            {
                return $"field '{field.Name}' of {record.Describe()} is missing and has no default";
            }
        }

        return null;
    }

    private static string? FirstProblem(IEnumerable<JsonElement> values, AvroSchema type)
    {
        foreach (var value in values)
        {
            if (Problem(type, value) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? Within(string? problem, string context) => problem is null ? null : $"{context}: {problem}";

    /// <summary>Whether every character is a code point 0-255 (the JSON form of Avro bytes and fixed).</summary>
    public static bool IsByteString(string text)
    {
        foreach (var c in text)
        {
            if (c > '\u00ff')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The JSON strings Avro's Java implementation accepts for a float or double that JSON cannot write.</summary>
    public static bool IsNonFinite(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity";
}
