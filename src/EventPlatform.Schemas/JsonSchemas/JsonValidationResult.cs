namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The outcome of validating one JSON instance. Paths are dotted from the instance root
/// (<c>amount</c>, <c>customer.address.city</c>, <c>lines[2].sku</c>); the root itself is <c>$</c>.
/// </summary>
public sealed class JsonValidationResult
{
    private JsonValidationResult(IReadOnlyList<string> missingFields, IReadOnlyList<JsonFieldError> invalidFields, bool workBudgetExceeded = false)
    {
        MissingFields = missingFields;
        InvalidFields = invalidFields;
        WorkBudgetExceeded = workBudgetExceeded;
    }

    /// <summary>The shared result for a valid instance (validation allocates nothing then).</summary>
    public static JsonValidationResult Valid { get; } = new([], []);

    /// <summary>True when the instance satisfies the schema.</summary>
    public bool IsValid => MissingFields.Count == 0 && InvalidFields.Count == 0;

    /// <summary>
    /// True when validation gave up before deciding: the instance needed more work than the validator
    /// allows one instance (schema checks, nesting, time in regular expressions). The instance is then
    /// not valid, and <see cref="InvalidFields"/> holds one error at <c>$</c> saying which limit it hit.
    /// </summary>
    public bool WorkBudgetExceeded { get; }

    /// <summary>Required properties that are absent.</summary>
    public IReadOnlyList<string> MissingFields { get; }

    /// <summary>Values that break the schema, each with the reason.</summary>
    public IReadOnlyList<JsonFieldError> InvalidFields { get; }

    internal static JsonValidationResult Invalid(IReadOnlyList<string> missingFields, IReadOnlyList<JsonFieldError> invalidFields) =>
        new(missingFields, invalidFields);

    internal static JsonValidationResult OverBudget(string reason) =>
        new([], [new JsonFieldError(ValidationErrors.Root, "validation exceeded its work budget: " + reason)], workBudgetExceeded: true);
}

/// <summary>One invalid value.</summary>
/// <param name="Path">Where in the instance, e.g. <c>temperature</c> (<c>$</c> for the root).</param>
/// <param name="Reason">Why, e.g. <c>expected number, got string</c>.</param>
public sealed record JsonFieldError(string Path, string Reason);

/// <summary>Collects errors during the (second, slow) pass over an instance already known to be invalid.</summary>
internal sealed class ValidationErrors
{
    public const string Root = "$";

    public List<string> Missing { get; } = [];

    public List<JsonFieldError> Invalid { get; } = [];

    public bool IsEmpty => Missing.Count == 0 && Invalid.Count == 0;

    public static string Child(string path, string name) => path == Root ? name : $"{path}.{name}";

    public static string Item(string path, int index) => path == Root ? $"[{index}]" : $"{path}[{index}]";

    public void Add(string path, string reason) => Invalid.Add(new(path, reason));

    /// <summary>A one-line summary, for reporting why a branch of anyOf/oneOf did not match.</summary>
    public string Summary()
    {
        var parts = new List<string>();
        foreach (var missing in Missing)
        {
            parts.Add($"missing {missing}");
        }

        foreach (var invalid in Invalid)
        {
            parts.Add($"{invalid.Path}: {invalid.Reason}");
        }

        return string.Join("; ", parts);
    }

    public JsonValidationResult ToResult() => JsonValidationResult.Invalid(Missing, Invalid);
}
