namespace EventPlatform.Schemas;

/// <summary>
/// A reference from one schema to another registered schema, as Confluent's API spells it:
/// the name the referring schema uses (an Avro full name, a JSON Schema <c>$ref</c> URL, a
/// Protobuf import path), and the subject and version that hold the referenced schema.
/// </summary>
public sealed record SchemaReference(string Name, string Subject, int Version);

/// <summary>A reference with the text of the schema it points at, ready for parsing.</summary>
/// <param name="Name">The name the referring schema uses.</param>
/// <param name="Subject">The subject holding the referenced schema.</param>
/// <param name="Version">The version within that subject.</param>
/// <param name="Schema">The referenced schema's text (same type as the referring schema).</param>
public sealed record ResolvedReference(string Name, string Subject, int Version, string Schema);
