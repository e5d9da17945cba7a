using static EventPlatform.Schemas.JsonSchemas.DifferenceType;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Objects and arrays. A content model is open when anything may be added (additionalProperties
/// absent or true, no patternProperties), closed when nothing may (false), partially open when
/// added properties must match a schema (patternProperties or an additionalProperties schema).
/// </summary>
internal sealed partial class JsonSchemaDiff
{
    private void CompareObject(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        CompareRequired(diffs, original, update, path + "/required");
        CompareProperties(diffs, original, update, path + "/properties");
        CompareDependencies(diffs, original, update, path + "/dependencies");
        CompareAdditional(diffs, original.AdditionalProperties, update.AdditionalProperties, path + "/additionalProperties",
            ADDITIONAL_PROPERTIES_ADDED, ADDITIONAL_PROPERTIES_REMOVED, ADDITIONAL_PROPERTIES_EXTENDED, ADDITIONAL_PROPERTIES_NARROWED);
        CompareBound(diffs, original.MaxProperties, update.MaxProperties, path + "/maxProperties",
            MAX_PROPERTIES_ADDED, MAX_PROPERTIES_REMOVED, MAX_PROPERTIES_INCREASED, MAX_PROPERTIES_DECREASED);
        CompareBound(diffs, original.MinProperties, update.MinProperties, path + "/minProperties",
            MIN_PROPERTIES_ADDED, MIN_PROPERTIES_REMOVED, MIN_PROPERTIES_INCREASED, MIN_PROPERTIES_DECREASED);
    }

    private static void CompareRequired(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        // Sets: 100,000 properties against 100,000 required names must not be quadratic.
        var originalRequired = original.Required.ToHashSet(StringComparer.Ordinal);
        var updateRequired = update.Required.ToHashSet(StringComparer.Ordinal);
        foreach (var name in PropertyNames(original))
        {
            if (update.Properties?.Find(name) is not { } schema)
            {
                continue;
            }

            var wasRequired = originalRequired.Contains(name);
            var isRequired = updateRequired.Contains(name);
            if (wasRequired != isRequired)
            {
                diffs.Add(new(wasRequired ? REQUIRED_ATTRIBUTE_REMOVED : HasDefault(schema) ? REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED : REQUIRED_ATTRIBUTE_ADDED,
                    Child(path, name)));
            }
        }
    }

    private void CompareProperties(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        foreach (var name in PropertyNames(original).Union(PropertyNames(update)))
        {
            var at = Child(path, name);
            var before = original.Properties?.Find(name);
            var after = update.Properties?.Find(name);
            if (before is not null && after is not null)
            {
                Compare(diffs, before, after, at);
            }
            else if (after is null)
            {
                // Removing is fine if the reader still takes the property as an extra one.
                diffs.Add(new(IsOpen(update) ? PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL
                    : PartialSchema(update, name) is { } partial ? Covered(diffs, before, partial, at, PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL)
                    : before!.IsFalse ? PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                    : PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, at));
            }
            else if (IsOpen(original))
            {
                // The writer may have put anything under this name.
                diffs.Add(new(views.Of(after)!.Kind == ViewKind.Empty ? PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                    : !update.Required.Contains(name) ? OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                    : HasDefault(after) ? REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
                    : REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, at));
            }
            else
            {
                if (PartialSchema(original, name) is { } partial)
                {
                    diffs.Add(new(Covered(diffs, partial, after, at, PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL), at));
                }

                diffs.Add(new(!update.Required.Contains(name) ? OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
                    : HasDefault(after) ? REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                    : REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, at));
            }
        }
    }

    /// <summary>Compares against the schema a partially open model gives the name; its differences are kept.</summary>
    private DifferenceType Covered(List<Difference> diffs, SchemaNode? original, SchemaNode? update, string at, DifferenceType covered, DifferenceType notCovered)
    {
        var sub = new List<Difference>();
        Compare(sub, original, update, at);
        diffs.AddRange(sub);
        return CompatibleChanges.AllCompatible(sub) ? covered : notCovered;
    }

    private void CompareDependencies(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        var originalArrays = FirstByName(original.DependentRequired, d => d.Property);
        var updateArrays = FirstByName(update.DependentRequired, d => d.Property);
        var originalSchemas = FirstByName(original.DependentSchemas, d => d.Property);
        var updateSchemas = FirstByName(update.DependentSchemas, d => d.Property);
        foreach (var name in original.DependentRequired.Select(d => d.Property).Union(update.DependentRequired.Select(d => d.Property)))
        {
            var before = originalArrays.GetValueOrDefault(name)?.Required;
            var after = updateArrays.GetValueOrDefault(name)?.Required;
            if (after is null || before is null || !before.ToHashSet().SetEquals(after))
            {
                diffs.Add(new(
                    after is null ? DEPENDENCY_ARRAY_REMOVED
                    : before is null ? DEPENDENCY_ARRAY_ADDED
                    : after.ToHashSet().IsSupersetOf(before) ? DEPENDENCY_ARRAY_EXTENDED
                    : before.ToHashSet().IsSupersetOf(after) ? DEPENDENCY_ARRAY_NARROWED
                    : DEPENDENCY_ARRAY_CHANGED,
                    Child(path, name)));
            }
        }

        foreach (var name in original.DependentSchemas.Select(d => d.Property).Union(update.DependentSchemas.Select(d => d.Property)))
        {
            var before = originalSchemas.GetValueOrDefault(name)?.Schema;
            var after = updateSchemas.GetValueOrDefault(name)?.Schema;
            if (after is null)
            {
                diffs.Add(new(DEPENDENCY_SCHEMA_REMOVED, Child(path, name)));
            }
            else if (before is null)
            {
                diffs.Add(new(DEPENDENCY_SCHEMA_ADDED, Child(path, name)));
            }
            else
            {
                Compare(diffs, before, after, Child(path, name));
            }
        }
    }

    private static Dictionary<string, T> FirstByName<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var byName = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            byName.TryAdd(name(item), item);
        }

        return byName;
    }

    private void CompareArray(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        Compare(diffs, original.Items, update.Items, path + "/items");
        CompareTuples(diffs, original, update, path);
        CompareAdditional(diffs, original.AdditionalItems, update.AdditionalItems, path + "/additionalItems",
            ADDITIONAL_ITEMS_ADDED, ADDITIONAL_ITEMS_REMOVED, ADDITIONAL_ITEMS_EXTENDED, ADDITIONAL_ITEMS_NARROWED);
        CompareBound(diffs, original.MaxItems, update.MaxItems, path + "/maxItems", MAX_ITEMS_ADDED, MAX_ITEMS_REMOVED, MAX_ITEMS_INCREASED, MAX_ITEMS_DECREASED);
        CompareBound(diffs, original.MinItems, update.MinItems, path + "/minItems", MIN_ITEMS_ADDED, MIN_ITEMS_REMOVED, MIN_ITEMS_INCREASED, MIN_ITEMS_DECREASED);
        if (original.UniqueItems != update.UniqueItems)
        {
            diffs.Add(new(original.UniqueItems ? UNIQUE_ITEMS_REMOVED : UNIQUE_ITEMS_ADDED, path + "/uniqueItems"));
        }
    }

    private void CompareTuples(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        var before = original.TupleItems ?? [];
        var after = update.TupleItems ?? [];
        for (var i = 0; i < Math.Max(before.Length, after.Length); i++)
        {
            var at = $"{path}/items/{i}";
            if (i < before.Length && i < after.Length)
            {
                Compare(diffs, before[i], after[i], at);
            }
            else if (i < before.Length)
            {
                diffs.Add(new(IsOpenArray(update) ? ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL
                    : update.AdditionalItems is { IsTrue: false, IsFalse: false } partial ? Covered(diffs, before[i], partial, at, ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL)
                    : before[i].IsFalse ? ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                    : ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL, at));
            }
            else
            {
                diffs.Add(new(IsOpenArray(original) ? (views.Of(after[i])!.Kind == ViewKind.Empty ? ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL : ITEM_ADDED_TO_OPEN_CONTENT_MODEL)
                    : original.AdditionalItems is { IsTrue: false, IsFalse: false } partial ? Covered(diffs, partial, after[i], at, ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL)
                    : ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, at));
            }
        }
    }

    /// <summary>additionalProperties / additionalItems: absent or true (anything), false (nothing), or a schema.</summary>
    private void CompareAdditional(List<Difference> diffs, SchemaNode? original, SchemaNode? update, string path,
        DifferenceType added, DifferenceType removed, DifferenceType extended, DifferenceType narrowed)
    {
        var permittedBefore = original is not { IsFalse: true };
        var permittedAfter = update is not { IsFalse: true };
        var schemaBefore = original is { BooleanValue: null } ? original : null;
        var schemaAfter = update is { BooleanValue: null } ? update : null;
        if (permittedBefore != permittedAfter)
        {
            diffs.Add(new(permittedAfter ? added : removed, path));
        }
        else if (schemaBefore is null != schemaAfter is null)
        {
            diffs.Add(new(schemaBefore is null ? narrowed : extended, path));
        }
        else if (schemaBefore is not null)
        {
            Compare(diffs, schemaBefore, schemaAfter, path);
        }
    }

    private static bool IsOpen(SchemaNode node) =>
        node.AdditionalProperties is null or { IsTrue: true } && node.PatternProperties.Length == 0;

    private static bool IsOpenArray(SchemaNode node) => node.AdditionalItems is null or { IsTrue: true };

    /// <summary>The schema a partially open model gives an extra property of this name, or null.</summary>
    private static SchemaNode? PartialSchema(SchemaNode node, string name)
    {
        foreach (var pattern in node.PatternProperties)
        {
            if (pattern.Pattern.IsMatch(name))
            {
                return pattern.Schema;
            }
        }

        return node.AdditionalProperties is { BooleanValue: null } schema ? schema : null;
    }

    private static IEnumerable<string> PropertyNames(SchemaNode node) => node.Properties?.Names ?? [];

    private static bool HasDefault(SchemaNode schema) => schema.Default is not null || schema.Ref?.Default is not null;
}
