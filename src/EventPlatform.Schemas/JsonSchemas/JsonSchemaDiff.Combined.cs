namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>allOf / anyOf / oneOf against each other: match subschemas pairwise.</summary>
internal sealed partial class JsonSchemaDiff
{
    private void CompareCombined(List<Difference> diffs, SchemaView original, SchemaView update, string path)
    {
        var o = original.Subschemas;
        var u = update.Subschemas;
        if (original.Criterion != update.Criterion)
        {
            var extended = update.Criterion == Criterion.AnyOf
                || (o.Count == 1 && u.Count == 1)
                || (o.Count == 1 && update.Criterion == Criterion.OneOf)
                || (u.Count == 1 && original.Criterion == Criterion.AllOf);
            diffs.Add(new(extended ? DifferenceType.COMBINED_TYPE_EXTENDED : DifferenceType.COMBINED_TYPE_CHANGED, path));
            if (!extended)
            {
                return;
            }
        }

        if (o.Count < u.Count)
        {
            diffs.Add(new(update.Criterion == Criterion.AllOf ? DifferenceType.PRODUCT_TYPE_EXTENDED : DifferenceType.SUM_TYPE_EXTENDED, path));
        }
        else if (o.Count > u.Count)
        {
            diffs.Add(new(original.Criterion == Criterion.AllOf ? DifferenceType.PRODUCT_TYPE_NARROWED : DifferenceType.SUM_TYPE_NARROWED, path));
        }

        // Which writer subschema each reader subschema can stand in for, with the differences of that pairing.
        var compatible = new List<Difference>?[o.Count, u.Count];
        for (var i = 0; i < o.Count; i++)
        {
            for (var j = 0; j < u.Count; j++)
            {
                var sub = new List<Difference>();
                Compare(sub, o[i], u[j], $"{path}/{CriterionName(original.Criterion)}/{i}");
                compatible[i, j] = CompatibleChanges.AllCompatible(sub) ? sub : null;
            }
        }

        var matchOfUpdate = MaximumMatching(compatible, o.Count, u.Count);
        var matched = 0;
        for (var j = 0; j < u.Count; j++)
        {
            if (matchOfUpdate[j] >= 0)
            {
                matched++;
                diffs.AddRange(compatible[matchOfUpdate[j], j]!);
            }
        }

        if (matched < Math.Min(o.Count, u.Count))
        {
            diffs.Add(new(DifferenceType.COMBINED_TYPE_SUBSCHEMAS_CHANGED, path));
        }
    }

    /// <summary>A maximum bipartite matching by augmenting paths; for each update subschema, its original (or -1).</summary>
    private static int[] MaximumMatching(List<Difference>?[,] edges, int originals, int updates)
    {
        var matchOfUpdate = Enumerable.Repeat(-1, updates).ToArray();
        for (var i = 0; i < originals; i++)
        {
            TryAugment(i, edges, matchOfUpdate, new bool[updates]);
        }

        return matchOfUpdate;
    }

    private static bool TryAugment(int original, List<Difference>?[,] edges, int[] matchOfUpdate, bool[] seen)
    {
        for (var j = 0; j < matchOfUpdate.Length; j++)
        {
            if (edges[original, j] is null || seen[j])
            {
                continue;
            }

            seen[j] = true;
            if (matchOfUpdate[j] < 0 || TryAugment(matchOfUpdate[j], edges, matchOfUpdate, seen))
            {
                matchOfUpdate[j] = original;
                return true;
            }
        }

        return false;
    }

    private static string CriterionName(Criterion criterion) => criterion switch
    {
        Criterion.AllOf => "allOf",
        Criterion.AnyOf => "anyOf",
        _ => "oneOf",
    };
}
