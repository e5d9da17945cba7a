using System.Text.Json;

namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// A parsed Avro schema, reduced to what schema resolution needs. Named types referenced more
/// than once (and recursive ones) are the same object, so a schema can be a cyclic graph.
/// </summary>
public abstract class AvroSchema
{
    private protected AvroSchema()
    {
    }

    /// <summary>The type's name as the specification spells it: <c>int</c>, <c>record</c>, <c>union</c>, ...</summary>
    public abstract string TypeName { get; }

    /// <summary>Parses an Avro schema from its JSON text.</summary>
    /// <exception cref="AvroSchemaParseException">The text is not a valid Avro schema.</exception>
    public static AvroSchema Parse(string json) => AvroSchemaParser.Parse(json, []).Schema;

    /// <summary>
    /// Parses an Avro schema that may use named types defined in other schemas (Confluent references).
    /// </summary>
    /// <param name="json">The schema text.</param>
    /// <param name="referencedSchemas">The referenced schemas' texts, transitively, dependencies first.</param>
    /// <exception cref="AvroSchemaParseException">A text is not a valid Avro schema.</exception>
    public static AvroSchema Parse(string json, IReadOnlyList<string> referencedSchemas) =>
        AvroSchemaParser.Parse(json, referencedSchemas).Schema;

    /// <summary>
    /// The logical type annotating this schema (<c>timestamp-millis</c>, <c>decimal</c>, ...), if any.
    /// Resolution ignores it; encoders use it to accept richer JSON (an RFC 3339 timestamp).
    /// </summary>
    public AvroLogicalType? LogicalType { get; private protected init; }

    /// <summary>A short description for messages: the full name of named types, else the type name.</summary>
    public virtual string Describe() => TypeName;
}

/// <summary>A logical type annotation as written in the schema.</summary>
/// <param name="Name">The <c>logicalType</c> attribute.</param>
/// <param name="Precision">The decimal's <c>precision</c>, when given.</param>
/// <param name="Scale">The decimal's <c>scale</c>, when given.</param>
public sealed record AvroLogicalType(string Name, int? Precision, int? Scale);

/// <summary>A primitive type: null, boolean, int, long, float, double, bytes or string.</summary>
public sealed class AvroPrimitiveSchema : AvroSchema
{
    internal AvroPrimitiveSchema(string typeName, AvroLogicalType? logicalType = null)
    {
        TypeName = typeName;
        LogicalType = logicalType;
    }

    /// <inheritdoc/>
    public override string TypeName { get; }
}

/// <summary>A record, enum or fixed: a type with a full name and aliases.</summary>
public abstract class AvroNamedSchema : AvroSchema
{
    private protected AvroNamedSchema(string fullName, IReadOnlyList<string> aliases)
    {
        FullName = fullName;
        Aliases = aliases;
    }

    /// <summary>The full name (namespace and name).</summary>
    public string FullName { get; }

    /// <summary>The name without its namespace.</summary>
    public string Name => FullName[(FullName.LastIndexOf('.') + 1)..];

    /// <summary>The aliases, as full names.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <inheritdoc/>
    public override string Describe() => $"{TypeName} '{FullName}'";
}

/// <summary>A record type.</summary>
public sealed class AvroRecordSchema : AvroNamedSchema
{
    private readonly List<AvroField> _fields = [];

    internal AvroRecordSchema(string fullName, IReadOnlyList<string> aliases)
        : base(fullName, aliases)
    {
    }

    /// <inheritdoc/>
    public override string TypeName => "record";

    /// <summary>The fields, in declaration order.</summary>
    public IReadOnlyList<AvroField> Fields => _fields;

    // Fields are added after the record is registered by name, so they can refer to it.
    internal void AddField(AvroField field) => _fields.Add(field);
}

/// <summary>A field of a record.</summary>
/// <param name="Name">The field's name.</param>
/// <param name="Aliases">Other names a reader accepts for the writer's field.</param>
/// <param name="Type">The field's type.</param>
/// <param name="Default">The declared default, validated against <paramref name="Type"/> (a JSON <c>null</c> default is a value).</param>
public sealed record AvroField(string Name, IReadOnlyList<string> Aliases, AvroSchema Type, JsonElement? Default)
{
    /// <summary>Whether the field declares a default (a JSON <c>null</c> default counts).</summary>
    public bool HasDefault => Default.HasValue;
}

/// <summary>An enum type.</summary>
public sealed class AvroEnumSchema : AvroNamedSchema
{
    internal AvroEnumSchema(string fullName, IReadOnlyList<string> aliases, IReadOnlyList<string> symbols, string? defaultSymbol)
        : base(fullName, aliases)
    {
        Symbols = symbols;
        Default = defaultSymbol;
    }

    /// <inheritdoc/>
    public override string TypeName => "enum";

    /// <summary>The symbols, in order.</summary>
    public IReadOnlyList<string> Symbols { get; }

    /// <summary>The symbol a reader uses for a writer's symbol it does not know, if any.</summary>
    public string? Default { get; }
}

/// <summary>A fixed type.</summary>
public sealed class AvroFixedSchema : AvroNamedSchema
{
    internal AvroFixedSchema(string fullName, IReadOnlyList<string> aliases, int size, AvroLogicalType? logicalType = null)
        : base(fullName, aliases)
    {
        Size = size;
        LogicalType = logicalType;
    }

    /// <inheritdoc/>
    public override string TypeName => "fixed";

    /// <summary>The size in bytes.</summary>
    public int Size { get; }
}

/// <summary>An array type.</summary>
public sealed class AvroArraySchema : AvroSchema
{
    internal AvroArraySchema(AvroSchema items) => Items = items;

    /// <inheritdoc/>
    public override string TypeName => "array";

    /// <summary>The items' type.</summary>
    public AvroSchema Items { get; }
}

/// <summary>A map type (string keys).</summary>
public sealed class AvroMapSchema : AvroSchema
{
    internal AvroMapSchema(AvroSchema values) => Values = values;

    /// <inheritdoc/>
    public override string TypeName => "map";

    /// <summary>The values' type.</summary>
    public AvroSchema Values { get; }
}

/// <summary>A union type.</summary>
public sealed class AvroUnionSchema : AvroSchema
{
    internal AvroUnionSchema(IReadOnlyList<AvroSchema> branches) => Branches = branches;

    /// <inheritdoc/>
    public override string TypeName => "union";

    /// <summary>The branches, in order (the order matters when a reader picks a branch).</summary>
    public IReadOnlyList<AvroSchema> Branches { get; }

    /// <inheritdoc/>
    public override string Describe() => "union [" + string.Join(", ", Branches.Select(b => b.Describe())) + "]";
}

/// <summary>The schema text is not a valid Avro schema.</summary>
public sealed class AvroSchemaParseException : FormatException
{
    /// <summary>Creates the exception with a message saying what is wrong.</summary>
    public AvroSchemaParseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the JSON error that caused it.</summary>
    public AvroSchemaParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public AvroSchemaParseException()
        : base("Not a valid Avro schema.")
    {
    }
}
