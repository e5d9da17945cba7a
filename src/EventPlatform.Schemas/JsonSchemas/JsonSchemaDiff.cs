using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Confluent's JSON Schema compatibility: walks an original (writer) and an updated (reader) schema
/// side by side, lists every difference, and keeps those its STRICT policy calls incompatible.
/// Our own code after the rules of io.confluent.kafka.schemaregistry.json.diff.
/// </summary>
internal sealed partial class JsonSchemaDiff
{
    private readonly SchemaViews views = new();
    private readonly HashSet<(SchemaView, SchemaView)> inProgress = [];

    // Bounds on the walk: both schemas come from clients (see SchemaLimits).
    private int depth;
    private int steps;

    public static IReadOnlyList<SchemaIncompatibility> Incompatibilities(SchemaNode original, SchemaNode update)
    {
        var diff = new JsonSchemaDiff();
        var differences = new List<Difference>();
        diff.Compare(differences, diff.views.Of(original), diff.views.Of(update), "#");
        var result = new List<SchemaIncompatibility>();
        foreach (var difference in differences)
        {
            if (!CompatibleChanges.IsCompatible(difference.Type))
            {
                var location = difference.Path == "#" ? "#/" : difference.Path;
                result.Add(new(difference.Type.ToString(), location, DifferenceMessages.Describe(difference.Type, location)));
            }
        }

        return result;
    }

    /// <summary>All differences, compatible ones included (for tests and diagnostics).</summary>
    public static List<Difference> AllDifferences(SchemaNode original, SchemaNode update)
    {
        var diff = new JsonSchemaDiff();
        var differences = new List<Difference>();
        diff.Compare(differences, diff.views.Of(original), diff.views.Of(update), "#");
        return differences;
    }

    private void Compare(List<Difference> diffs, SchemaView? original, SchemaView? update, string path)
    {
        if (original is null || update is null)
        {
            if (original is not null || update is not null)
            {
                diffs.Add(new(original is null ? DifferenceType.SCHEMA_ADDED : DifferenceType.SCHEMA_REMOVED, path));
            }

            return;
        }

        // A pair met again inside its own comparison is a recursive cycle: assume it compatible.
        if (!inProgress.Add((original, update)))
        {
            return;
        }

        if (++steps > SchemaLimits.MaxComparisonSteps)
        {
            throw SchemaLimits.TooComplexToCompare();
        }

        if (++depth > SchemaLimits.MaxNestingDepth)
        {
            throw SchemaLimits.TooDeep($"comparing the schemas at '{path}'");
        }

        try
        {
            SchemaLimits.EnsureStack("comparing JSON schemas");
            CompareTypes(diffs, original, update, path);
        }
        finally
        {
            depth--;
            inProgress.Remove((original, update));
        }
    }

    private void Compare(List<Difference> diffs, SchemaNode? original, SchemaNode? update, string path) =>
        Compare(diffs, views.Of(original), views.Of(update), path);

    private void CompareTypes(List<Difference> diffs, SchemaView original, SchemaView update, string path)
    {
        if (original.Kind != ViewKind.Combined && update.Kind == ViewKind.Combined)
        {
            // The reader became a union (or a singleton combination): fine if one branch reads the old data.
            var extends = update.Subschemas.Count == 1 || update.Criterion != Criterion.AllOf;
            foreach (var branch in extends ? update.Subschemas : [])
            {
                var sub = new List<Difference>();
                Compare(sub, original, branch, path);
                if (CompatibleChanges.AllCompatible(sub))
                {
                    diffs.AddRange(sub);
                    if (update.Subschemas.Count > 1)
                    {
                        diffs.Add(new(DifferenceType.SUM_TYPE_EXTENDED, path));
                    }

                    return;
                }
            }
        }
        else if (original.Kind == ViewKind.Combined && update.Kind != ViewKind.Combined)
        {
            // The writer was an intersection: fine if the reader accepts one of its parts.
            var narrows = original.Subschemas.Count == 1 || original.Criterion == Criterion.AllOf;
            foreach (var branch in narrows ? original.Subschemas : [])
            {
                var sub = new List<Difference>();
                Compare(sub, branch, update, path);
                if (CompatibleChanges.AllCompatible(sub))
                {
                    diffs.AddRange(sub);
                    if (original.Subschemas.Count > 1)
                    {
                        diffs.Add(new(DifferenceType.PRODUCT_TYPE_NARROWED, path));
                    }

                    return;
                }
            }
        }

        if (original.Kind != update.Kind)
        {
            // Anything reads what "false" allowed (nothing), and "true" reads anything.
            if (original.Kind != ViewKind.False && update.Kind != ViewKind.Empty)
            {
                diffs.Add(new(DifferenceType.TYPE_CHANGED, path));
            }

            return;
        }

        CompareAnnotations(diffs, original.Node, update.Node, path);
        switch (original.Kind)
        {
            case ViewKind.String:
                CompareString(diffs, original.Node, update.Node, path);
                break;
            case ViewKind.Number:
                CompareNumber(diffs, original, update, path);
                break;
            case ViewKind.Enum:
                CompareEnum(diffs, original.Node.Enum!, update.Node.Enum!, path);
                break;
            case ViewKind.Const when !JsonElement.DeepEquals(original.Node.Const!.Value, update.Node.Const!.Value):
                diffs.Add(new(DifferenceType.ENUM_ARRAY_CHANGED, path + "/const"));
                break;
            case ViewKind.Combined:
                CompareCombined(diffs, original, update, path);
                break;
            case ViewKind.Not:
                CompareNot(diffs, original.Node, update.Node, path);
                break;
            case ViewKind.Object:
                CompareObject(diffs, original.Node, update.Node, path);
                break;
            case ViewKind.Array:
                CompareArray(diffs, original.Node, update.Node, path);
                break;
        }
    }

    private static void CompareAnnotations(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        if (original.Id != update.Id)
        {
            diffs.Add(new(DifferenceType.ID_CHANGED, path));
        }

        if (original.Title != update.Title)
        {
            diffs.Add(new(DifferenceType.TITLE_CHANGED, path));
        }

        if (original.Description != update.Description)
        {
            diffs.Add(new(DifferenceType.DESCRIPTION_CHANGED, path));
        }

        if (original.Default.HasValue != update.Default.HasValue
            || (original.Default is JsonElement a && update.Default is JsonElement b && !JsonElement.DeepEquals(a, b)))
        {
            diffs.Add(new(DifferenceType.DEFAULT_CHANGED, path));
        }
    }

    private void CompareNot(List<Difference> diffs, SchemaNode original, SchemaNode update, string path)
    {
        // The reader must reject less than the writer did: compare the negated schemas the other way round.
        var sub = new List<Difference>();
        Compare(sub, update.Not, original.Not, path + "/not");
        diffs.Add(new(CompatibleChanges.AllCompatible(sub) ? DifferenceType.NOT_TYPE_NARROWED : DifferenceType.NOT_TYPE_EXTENDED, path + "/not"));
    }

    private static string Child(string path, string segment) => $"{path}/{SchemaLoader.EscapePointer(segment)}";
}
