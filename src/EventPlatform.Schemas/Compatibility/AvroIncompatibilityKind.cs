namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// Why a reader schema cannot read a writer's data; the names Confluent's
/// <c>AvroCompatibilityChecker</c> reports.
/// </summary>
public enum AvroIncompatibilityKind
{
    /// <summary>A reader field has no default and the writer's record has no field it matches.</summary>
    READER_FIELD_MISSING_DEFAULT_VALUE,

    /// <summary>The reader's type cannot read the writer's type (no equal type, no promotion).</summary>
    TYPE_MISMATCH,

    /// <summary>The writer's enum has symbols the reader's lacks, and the reader's enum has no default.</summary>
    MISSING_ENUM_SYMBOLS,

    /// <summary>Named types (record, enum, fixed) whose names differ and no reader alias names the writer's.</summary>
    NAME_MISMATCH,

    /// <summary>Fixed types of different sizes.</summary>
    FIXED_SIZE_MISMATCH,

    /// <summary>The reader's union has no branch that matches (a branch of) the writer's type.</summary>
    MISSING_UNION_BRANCH,
}
