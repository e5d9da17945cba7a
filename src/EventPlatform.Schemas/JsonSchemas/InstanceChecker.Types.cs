using System.Globalization;
using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>The keywords that apply to one kind of instance (object, array, string, number).</summary>
internal static partial class InstanceChecker
{
    private static bool CheckObject(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        for (var i = 0; i < node.Required.Length; i++)
        {
            if (!x.TryGetProperty(node.RequiredUtf8[i], out _))
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
                errors.Missing.Add(ValidationErrors.Child(path!, node.Required[i]));
            }
        }

        var count = 0;
        foreach (var property in x.EnumerateObject())
        {
            count++;
            if (!CheckProperty(node, property, errors, path, ref budget))
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
            }
        }

        if ((node.MinProperties is int min && count < min) || (node.MaxProperties is int max && count > max))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, $"has {count} properties, expected {Range(node.MinProperties, node.MaxProperties)}");
        }

        foreach (var dependency in node.DependentRequired)
        {
            if (!x.TryGetProperty(dependency.PropertyUtf8, out _))
            {
                continue;
            }

            for (var i = 0; i < dependency.Required.Length; i++)
            {
                if (!x.TryGetProperty(dependency.RequiredUtf8[i], out _))
                {
                    if (errors is null)
                    {
                        return false;
                    }

                    valid = false;
                    errors.Missing.Add(ValidationErrors.Child(path!, dependency.Required[i]));
                }
            }
        }

        foreach (var dependency in node.DependentSchemas)
        {
            if (x.TryGetProperty(dependency.PropertyUtf8, out _) && !Check(dependency.Schema, x, errors, path, ref budget))
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
            }
        }

        return valid;
    }

    private static bool CheckProperty(SchemaNode node, JsonProperty property, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        budget.EnterChild();
        var valid = CheckPropertyValue(node, property, errors, path, ref budget);
        budget.LeaveChild();
        return valid;
    }

    private static bool CheckPropertyValue(SchemaNode node, JsonProperty property, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        var childPath = errors is null ? null : ValidationErrors.Child(path!, property.Name);
        var matched = false;
        if (node.Properties?.Find(property) is { } schema)
        {
            matched = true;
            valid &= Check(schema, property.Value, errors, childPath, ref budget);
        }

        foreach (var pattern in node.PatternProperties)
        {
            if ((valid || errors is not null) && JsonStrings.NameMatches(property, pattern.Pattern, ref budget))
            {
                matched = true;
                valid &= Check(pattern.Schema, property.Value, errors, childPath, ref budget);
            }
        }

        if (!matched && node.AdditionalProperties is { } additional && (valid || errors is not null))
        {
            if (additional.IsFalse)
            {
                errors?.Add(childPath!, "property is not allowed (additionalProperties is false)");
                valid = false;
            }
            else
            {
                valid &= Check(additional, property.Value, errors, childPath, ref budget);
            }
        }

        if (node.PropertyNames is { } names && (valid || errors is not null))
        {
            // Rare keyword: the name is turned into a JSON string value to check it (another value: its own memo level).
            using var nameDocument = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(property.Name));
            budget.EnterChild();
            var nameValid = Check(names, nameDocument.RootElement, null, null, ref budget);
            budget.LeaveChild();
            if (!nameValid)
            {
                errors?.Add(childPath!, "property name does not match propertyNames");
                valid = false;
            }
        }

        return valid;
    }

    private static bool CheckArray(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        var index = 0;
        var containsFound = node.Contains is null;
        foreach (var item in x.EnumerateArray())
        {
            var schema = node.TupleItems is null ? node.Items
                : index < node.TupleItems.Length ? node.TupleItems[index] : node.AdditionalItems;
            budget.EnterChild();
            var itemValid = schema is null || Check(schema, item, errors, errors is null ? null : ValidationErrors.Item(path!, index), ref budget);
            containsFound = containsFound || ((itemValid || errors is not null) && Check(node.Contains!, item, null, null, ref budget));
            budget.LeaveChild();
            if (!itemValid)
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
            }

            index++;
        }

        if ((node.MinItems is int min && index < min) || (node.MaxItems is int max && index > max))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, $"has {index} items, expected {Range(node.MinItems, node.MaxItems)}");
        }

        if (!containsFound)
        {
            errors?.Add(path!, "has no item matching 'contains'");
            valid = false;
        }

        if (node.UniqueItems && (valid || errors is not null) && !AllUnique(x, ref budget))
        {
            errors?.Add(path!, "has duplicate items (uniqueItems)");
            valid = false;
        }

        return valid;
    }

    private static bool AllUnique(JsonElement array, ref ValidationBudget budget)
    {
        var length = array.GetArrayLength();
        for (var i = 0; i < length; i++)
        {
            // Quadratic in the array's length: each comparison is work.
            budget.Charge(length - i - 1);
            for (var j = i + 1; j < length; j++)
            {
                if (JsonElement.DeepEquals(array[i], array[j]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool CheckString(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        if (node.MinLength is not null || node.MaxLength is not null)
        {
            var length = JsonStrings.CodePointCount(x);
            if (length < (node.MinLength ?? 0) || length > (node.MaxLength ?? int.MaxValue))
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
                errors.Add(path!, $"has {length} characters, expected {Range(node.MinLength, node.MaxLength)}");
            }
        }

        if (node.Pattern is { } pattern && !JsonStrings.Matches(x, pattern, ref budget))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, $"does not match pattern {pattern}");
        }

        if (node.FormatCheck is { } format && !JsonStrings.Passes(x, format))
        {
            errors?.Add(path!, $"is not a valid {node.Format}");
            valid = false;
        }

        return valid;
    }

    private static bool CheckNumber(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        if (node.Minimum is null && node.Maximum is null && node.ExclusiveMinimum is null && node.ExclusiveMaximum is null && node.MultipleOf is null)
        {
            return true;
        }

        if (!x.TryGetDouble(out var value))
        {
            // Beyond double's range: only the sign matters for the bounds.
            value = x.GetRawText()[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        }

        var valid = true;
        if (value < node.Minimum || value > node.Maximum || value <= node.ExclusiveMinimum || value >= node.ExclusiveMaximum)
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, $"{x.GetRawText()} is out of range {Bounds(node)}");
        }

        if (node.MultipleOf is decimal step && !IsMultiple(x, value, step))
        {
            errors?.Add(path!, $"{x.GetRawText()} is not a multiple of {step.ToString(CultureInfo.InvariantCulture)}");
            valid = false;
        }

        return valid;
    }

    private static bool IsMultiple(JsonElement x, double value, decimal step)
    {
        if (x.TryGetDecimal(out var exact))
        {
            return exact % step == 0;
        }

        var quotient = value / (double)step;
        return double.IsFinite(quotient) && Math.Abs(quotient - Math.Round(quotient)) < 1e-9;
    }

    private static string Range(int? min, int? max) => (min, max) switch
    {
        (int lo, int hi) => $"{lo} to {hi}",
        (int lo, null) => $"at least {lo}",
        (null, int hi) => $"at most {hi}",
        _ => "any",
    };

    private static string Bounds(SchemaNode node)
    {
        var low = node.ExclusiveMinimum is double el ? $"({el.ToString(CultureInfo.InvariantCulture)}"
            : node.Minimum is double l ? $"[{l.ToString(CultureInfo.InvariantCulture)}" : "(-inf";
        var high = node.ExclusiveMaximum is double eh ? $"{eh.ToString(CultureInfo.InvariantCulture)})"
            : node.Maximum is double h ? $"{h.ToString(CultureInfo.InvariantCulture)}]" : "inf)";
        return $"{low}, {high}";
    }
}
