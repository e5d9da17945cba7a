namespace EventPlatform.Schemas.Compatibility;

/// <summary>The outcome of a compatibility check: compatible when there are no incompatibilities.</summary>
/// <param name="Incompatibilities">Every problem found, in schema order.</param>
public sealed record CompatibilityResult(IReadOnlyList<AvroIncompatibility> Incompatibilities)
{
    /// <summary>The result of a check that found nothing wrong.</summary>
    public static CompatibilityResult Compatible { get; } = new([]);

    /// <summary>Whether the check found no incompatibility.</summary>
    public bool IsCompatible => Incompatibilities.Count == 0;
}
