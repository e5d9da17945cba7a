namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// Confluent Schema Registry's compatibility levels, with Confluent's names and meanings.
/// "New" is the schema being registered; "previous" are the subject's earlier versions.
/// </summary>
public enum CompatibilityLevel
{
    /// <summary>No check: every new schema is accepted.</summary>
    NONE,

    /// <summary>A reader with the new schema can read data written with the latest previous schema.</summary>
    BACKWARD,

    /// <summary>A reader with the new schema can read data written with every previous schema.</summary>
    BACKWARD_TRANSITIVE,

    /// <summary>A reader with the latest previous schema can read data written with the new schema.</summary>
    FORWARD,

    /// <summary>A reader with any previous schema can read data written with the new schema.</summary>
    FORWARD_TRANSITIVE,

    /// <summary><see cref="BACKWARD"/> and <see cref="FORWARD"/> against the latest previous schema.</summary>
    FULL,

    /// <summary><see cref="BACKWARD"/> and <see cref="FORWARD"/> against every previous schema.</summary>
    FULL_TRANSITIVE,
}
