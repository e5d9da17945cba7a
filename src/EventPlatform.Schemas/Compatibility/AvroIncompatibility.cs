namespace EventPlatform.Schemas.Compatibility;

/// <summary>One reason a reader schema cannot read data written with a writer schema.</summary>
/// <param name="Kind">What is wrong, by Confluent's name.</param>
/// <param name="Location">
/// A JSON-path-like location in the reader schema, e.g. <c>/fields/user_id/type</c>
/// (fields by name, union branches by index, <c>items</c>, <c>values</c>, <c>symbols</c>, <c>size</c>, <c>name</c>).
/// </param>
/// <param name="Message">A human sentence naming the field or type and why.</param>
public sealed record AvroIncompatibility(AvroIncompatibilityKind Kind, string Location, string Message);
