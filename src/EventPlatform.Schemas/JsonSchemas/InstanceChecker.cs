using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The validation rules. With <c>errors</c> null it answers valid/invalid, stopping at the first
/// problem and building no strings; with a collector it reports every problem with its path.
/// </summary>
internal static partial class InstanceChecker
{
    /// <exception cref="ValidationBudgetExceededException">The instance needs more work than <paramref name="budget"/> allows.</exception>
    public static bool Check(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        if (node.BooleanValue is bool allowed)
        {
            if (!allowed)
            {
                errors?.Add(path!, "no value is allowed here");
            }

            return allowed;
        }

        // Same-value results repeat when combinations fan out; the fast pass recalls them (sound: one value, one node).
        if (errors is null && budget.Memo is not null && budget.TryRecall(node, out var known))
        {
            return known;
        }

        // No finally: a budget exception abandons the whole validation, and with it the budget.
        budget.Enter();
        var result = CheckKeywords(node, x, errors, path, ref budget);
        budget.Leave();
        if (errors is null)
        {
            budget.Remember(node, result);
        }

        return result;
    }

    private static bool CheckKeywords(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        if (node.Ref is not null && !Check(node.Ref, x, errors, path, ref budget))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
        }

        if (node.Types != JsonTypes.None && !HasType(node.Types, x))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, $"expected {TypeNames(node.Types)}, got {KindName(x)}");
        }

        if ((node.Enum is not null && !InEnum(node, x, ref budget)) || (node.Const is JsonElement constant && !JsonElement.DeepEquals(constant, x)))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, node.Enum is not null && !InEnum(node, x, ref budget) ? $"{Shorten(x)} is not one of {Shorten(node.Enum)}" : $"must be {node.Const!.Value.GetRawText()}");
        }

        var typed = x.ValueKind switch
        {
            JsonValueKind.Object => CheckObject(node, x, errors, path, ref budget),
            JsonValueKind.Array => CheckArray(node, x, errors, path, ref budget),
            JsonValueKind.String => CheckString(node, x, errors, path, ref budget),
            JsonValueKind.Number => CheckNumber(node, x, errors, path, ref budget),
            _ => true,
        };
        if (!typed)
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
        }

        return CheckApplicators(node, x, errors, path, ref budget) && valid;
    }

    private static bool CheckApplicators(SchemaNode node, JsonElement x, ValidationErrors? errors, string? path, ref ValidationBudget budget)
    {
        var valid = true;
        if (node.AllOf is { } allOf)
        {
            foreach (var branch in allOf)
            {
                if (!Check(branch, x, errors, path, ref budget))
                {
                    if (errors is null)
                    {
                        return false;
                    }

                    valid = false;
                }
            }
        }

        if (node.AnyOf is { } anyOf && !MatchesAny(anyOf, x, ref budget))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, "matches none of the anyOf schemas" + BranchSummaries(anyOf, x, path!, ref budget));
        }

        if (node.OneOf is { } oneOf)
        {
            var matches = CountMatches(oneOf, x, ref budget);
            if (matches != 1)
            {
                if (errors is null)
                {
                    return false;
                }

                valid = false;
                errors.Add(path!, matches == 0
                    ? "matches none of the oneOf schemas" + BranchSummaries(oneOf, x, path!, ref budget)
                    : $"matches {matches} of the oneOf schemas, expected exactly one");
            }
        }

        if (node.Not is not null && Check(node.Not, x, null, null, ref budget))
        {
            if (errors is null)
            {
                return false;
            }

            valid = false;
            errors.Add(path!, "must not match the 'not' schema");
        }

        if (node.If is not null)
        {
            var branch = Check(node.If, x, null, null, ref budget) ? node.Then : node.Else;
            if (branch is not null && !Check(branch, x, errors, path, ref budget))
            {
                valid = false;
            }
        }

        return valid;
    }

    private static bool MatchesAny(SchemaNode[] branches, JsonElement x, ref ValidationBudget budget)
    {
        foreach (var branch in branches)
        {
            if (Check(branch, x, null, null, ref budget))
            {
                return true;
            }
        }

        return false;
    }

    private static int CountMatches(SchemaNode[] branches, JsonElement x, ref ValidationBudget budget)
    {
        var count = 0;
        foreach (var branch in branches)
        {
            if (Check(branch, x, null, null, ref budget))
            {
                count++;
            }
        }

        return count;
    }

    // Why each branch failed, one level only: summaries inside summaries would multiply with every nested combination.
    private static string BranchSummaries(SchemaNode[] branches, JsonElement x, string path, ref ValidationBudget budget)
    {
        if (budget.InSummary)
        {
            return string.Empty;
        }

        budget.InSummary = true;
        var summaries = new List<string>();
        foreach (var branch in branches)
        {
            var branchErrors = new ValidationErrors();
            Check(branch, x, branchErrors, path, ref budget);
            summaries.Add(branchErrors.Summary());
        }

        budget.InSummary = false;
        return " (" + string.Join(" | ", summaries) + ")";
    }

    private static bool InEnum(SchemaNode node, JsonElement x, ref ValidationBudget budget)
    {
        if (node.EnumStrings is { } strings)
        {
            if (x.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            foreach (var s in strings)
            {
                if (x.ValueEquals(s))
                {
                    return true;
                }
            }

            return false;
        }

        budget.Charge(node.Enum!.Length);
        foreach (var value in node.Enum!)
        {
            if (JsonElement.DeepEquals(value, x))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasType(JsonTypes types, JsonElement x) => x.ValueKind switch
    {
        JsonValueKind.Object => (types & JsonTypes.Object) != 0,
        JsonValueKind.Array => (types & JsonTypes.Array) != 0,
        JsonValueKind.String => (types & JsonTypes.String) != 0,
        JsonValueKind.True or JsonValueKind.False => (types & JsonTypes.Boolean) != 0,
        JsonValueKind.Null => (types & JsonTypes.Null) != 0,
        JsonValueKind.Number => (types & JsonTypes.Number) != 0 || ((types & JsonTypes.Integer) != 0 && IsInteger(x)),
        _ => false,
    };

    private static bool IsInteger(JsonElement x) =>
        x.TryGetInt64(out _) || (x.TryGetDouble(out var d) && Math.Floor(d) == d);

    private static string TypeNames(JsonTypes types) =>
        string.Join(" or ", Enum.GetValues<JsonTypes>().Where(t => t != JsonTypes.None && (types & t) != 0).Select(t => t.ToString().ToLowerInvariant()));

    private static string KindName(JsonElement x) => x.ValueKind switch
    {
        JsonValueKind.Number => IsInteger(x) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => x.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Shorten(JsonElement x)
    {
        var text = x.GetRawText();
        return text.Length <= 40 ? text : text[..37] + "...";
    }

    private static string Shorten(JsonElement[] values) =>
        "[" + string.Join(", ", values.Take(10).Select(Shorten)) + (values.Length > 10 ? ", ...]" : "]");
}
