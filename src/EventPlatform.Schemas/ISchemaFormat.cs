namespace EventPlatform.Schemas;

/// <summary>
/// One schema type's rules: how its text is parsed and validated, what its canonical form is,
/// and when one schema can read data written with another. The registry is generic over these.
/// </summary>
public interface ISchemaFormat
{
    /// <summary>The schema type this format handles.</summary>
    SchemaType Type { get; }

    /// <summary>Parses and validates a schema.</summary>
    /// <param name="schema">The schema text as a client sent it.</param>
    /// <param name="references">
    /// The schema's references, already resolved to text, transitively (a reference's own
    /// references are in the list too, before it).
    /// </param>
    /// <exception cref="InvalidSchemaException">The text is not a valid schema of this type.</exception>
    ParsedSchema Parse(string schema, IReadOnlyList<ResolvedReference> references);
}

/// <summary>A parsed, valid schema of one type.</summary>
public abstract class ParsedSchema
{
    /// <summary>The schema's type.</summary>
    public abstract SchemaType Type { get; }

    /// <summary>
    /// The text the registry stores and returns: the schema as sent with insignificant
    /// formatting removed (Avro/JSON: compact JSON; Protobuf: formatted .proto text, also for a
    /// schema sent as a base64 FileDescriptorProto). Two registrations with the same canonical
    /// text are the same schema.
    /// </summary>
    public abstract string CanonicalText { get; }

    /// <summary>
    /// The form used when a client asks to <c>normalize</c>: also ignores differences that do not
    /// change meaning (order of JSON keys and Protobuf options, fully qualified Avro names, ...).
    /// </summary>
    public abstract string NormalizedText { get; }

    /// <summary>
    /// Every reason data written with <paramref name="writer"/> cannot be read with this schema
    /// (empty when it can). Confluent's BACKWARD check is <c>new.ReadIncompatibilities(old)</c>,
    /// FORWARD is <c>old.ReadIncompatibilities(new)</c>.
    /// </summary>
    /// <param name="writer">A schema of the same type (other types are always incompatible).</param>
    public abstract IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedSchema writer);
}

/// <summary>One reason two schemas are not compatible.</summary>
/// <param name="Kind">Confluent's name for the kind of difference, e.g. <c>READER_FIELD_MISSING_DEFAULT_VALUE</c>.</param>
/// <param name="Location">Where in the schema, e.g. <c>/fields/user_id</c>, <c>#/properties/amount</c>, <c>#/Event/3</c>.</param>
/// <param name="Message">A sentence naming the field or type and why.</param>
public sealed record SchemaIncompatibility(string Kind, string Location, string Message);

/// <summary>The schema text is not a valid schema of its type (Confluent's 422, error code 42201).</summary>
public sealed class InvalidSchemaException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public InvalidSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public InvalidSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidSchemaException()
    {
    }
}
