using System.Text.Json;
using static EventPlatform.Schemas.JsonSchemas.DifferenceType;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>Strings, numbers and enums: bounds that move, keywords that appear or go.</summary>
internal sealed partial class JsonSchemaDiff
{
    private static void CompareString(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        CompareBound(diffs, original.MaxLength, update.MaxLength, path + "/maxLength", MAX_LENGTH_ADDED, MAX_LENGTH_REMOVED, MAX_LENGTH_INCREASED, MAX_LENGTH_DECREASED);
        CompareBound(diffs, original.MinLength, update.MinLength, path + "/minLength", MIN_LENGTH_ADDED, MIN_LENGTH_REMOVED, MIN_LENGTH_INCREASED, MIN_LENGTH_DECREASED);
        var before = original.Pattern?.ToString();
        var after = update.Pattern?.ToString();
        if (before != after)
        {
            diffs.Add(new(before is null ? PATTERN_ADDED : after is null ? PATTERN_REMOVED : PATTERN_CHANGED, path + "/pattern"));
        }
    }

    private static void CompareNumber(List<Difference> diffs, SchemaView original, SchemaView update, string path)
    {
        var o = original.Node;
        var u = update.Node;
        CompareBound(diffs, o.Maximum, u.Maximum, path + "/maximum", MAXIMUM_ADDED, MAXIMUM_REMOVED, MAXIMUM_INCREASED, MAXIMUM_DECREASED);
        CompareBound(diffs, o.Minimum, u.Minimum, path + "/minimum", MINIMUM_ADDED, MINIMUM_REMOVED, MINIMUM_INCREASED, MINIMUM_DECREASED);
        CompareBound(diffs, o.ExclusiveMaximum, u.ExclusiveMaximum, path + "/exclusiveMaximum",
            EXCLUSIVE_MAXIMUM_ADDED, EXCLUSIVE_MAXIMUM_REMOVED, EXCLUSIVE_MAXIMUM_INCREASED, EXCLUSIVE_MAXIMUM_DECREASED);
        CompareBound(diffs, o.ExclusiveMinimum, u.ExclusiveMinimum, path + "/exclusiveMinimum",
            EXCLUSIVE_MINIMUM_ADDED, EXCLUSIVE_MINIMUM_REMOVED, EXCLUSIVE_MINIMUM_INCREASED, EXCLUSIVE_MINIMUM_DECREASED);
        if (o.MultipleOf != u.MultipleOf)
        {
            // A multiple of the new step is a multiple of the old one only when the new step divides the old.
            diffs.Add(new(
                o.MultipleOf is not decimal before ? MULTIPLE_OF_ADDED
                : u.MultipleOf is not decimal after ? MULTIPLE_OF_REMOVED
                : after % before == 0 ? MULTIPLE_OF_EXPANDED
                : before % after == 0 ? MULTIPLE_OF_REDUCED
                : MULTIPLE_OF_CHANGED,
                path + "/multipleOf"));
        }

        if (original.RequiresInteger != update.RequiresInteger)
        {
            diffs.Add(new(original.RequiresInteger ? TYPE_EXTENDED : TYPE_NARROWED, path));
        }
    }

    private static void CompareEnum(List<Difference> diffs, JsonElement[] original, JsonElement[] update, string path)
    {
        var updateHasAll = ContainsAll(update, original);
        var originalHasAll = ContainsAll(original, update);
        if (!(updateHasAll && originalHasAll))
        {
            diffs.Add(new(updateHasAll ? ENUM_ARRAY_EXTENDED : originalHasAll ? ENUM_ARRAY_NARROWED : ENUM_ARRAY_CHANGED, path + "/enum"));
        }
    }

    // Values bucketed by a key that equal values share, then compared exactly within a bucket:
    // two enums of 100,000 values each must not cost 10^10 comparisons.
    private static bool ContainsAll(JsonElement[] values, JsonElement[] wanted)
    {
        var buckets = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var key = BucketKey(value);
            if (!buckets.TryGetValue(key, out var bucket))
            {
                buckets[key] = bucket = [];
            }

            bucket.Add(value);
        }

        return wanted.All(w => buckets.TryGetValue(BucketKey(w), out var bucket) && bucket.Any(v => JsonElement.DeepEquals(v, w)));
    }

    private static string BucketKey(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "s" + value.GetString(),
        JsonValueKind.Number => "n" + (value.TryGetDouble(out var d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "big"),
        JsonValueKind.Object => "o" + value.GetPropertyCount().ToString(System.Globalization.CultureInfo.InvariantCulture),
        JsonValueKind.Array => "a" + value.GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture),
        var kind => kind.ToString(),
    };

    private static void CompareBound<T>(List<Difference> diffs, T? original, T? update, string path,
        DifferenceType added, DifferenceType removed, DifferenceType increased, DifferenceType decreased)
        where T : struct, IComparable<T>
    {
        if (original is T before)
        {
            if (update is T after)
            {
                var order = before.CompareTo(after);
                if (order != 0)
                {
                    diffs.Add(new(order < 0 ? increased : decreased, path));
                }
            }
            else
            {
                diffs.Add(new(removed, path));
            }
        }
        else if (update is not null)
        {
            diffs.Add(new(added, path));
        }
    }
}
