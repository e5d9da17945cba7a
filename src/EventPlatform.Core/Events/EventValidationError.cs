namespace EventPlatform.Core.Events;

/// <summary>
/// Why one event was refused: the fields that are missing and the fields whose value is
/// wrong, each with a reason a client can act on.
/// </summary>
public sealed class EventValidationError
{
    private readonly List<string> _missing = [];
    private readonly SortedDictionary<string, string> _invalid = new(StringComparer.Ordinal);

    public IReadOnlyList<string> MissingFields => _missing;

    public IReadOnlyDictionary<string, string> InvalidFields => _invalid;

    /// <summary>Set when the value is not a JSON object at all (a batch slot holding a number, say).</summary>
    public string? NotAnObject { get; private set; }

    public bool HasErrors => _missing.Count > 0 || _invalid.Count > 0 || NotAnObject is not null;

    internal void Missing(string field) => _missing.Add(field);

    internal void Invalid(string field, string reason) => _invalid.TryAdd(field, reason);

    internal void SetNotAnObject(string reason) => NotAnObject = reason;

    /// <summary>A one-line summary for the <c>message</c> of an error response.</summary>
    public string Describe()
    {
        if (NotAnObject is not null)
        {
            return NotAnObject;
        }

        var parts = new List<string>(2);
        if (_missing.Count > 0)
        {
            parts.Add("missing required field(s): " + string.Join(", ", _missing));
        }

        if (_invalid.Count > 0)
        {
            parts.Add("invalid field(s): " + string.Join(", ", _invalid.Keys));
        }

        return "Event is not valid: " + string.Join("; ", parts);
    }
}
