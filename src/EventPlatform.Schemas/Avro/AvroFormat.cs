using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>The Avro schema type: the specification's parsing and resolution rules.</summary>
public sealed class AvroFormat : ISchemaFormat
{
    /// <summary>The shared instance (the format is stateless).</summary>
    public static AvroFormat Instance { get; } = new();

    /// <inheritdoc/>
    public SchemaType Type => SchemaType.AVRO;

    /// <inheritdoc/>
    public ParsedSchema Parse(string schema, IReadOnlyList<ResolvedReference> references)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(references);
        try
        {
            // Confluent names each reference by the type's full name; the parser only needs the texts,
            // in order, since a referenced schema defines its named types itself.
            var texts = new string[references.Count];
            for (var i = 0; i < texts.Length; i++)
            {
                texts[i] = references[i].Schema;
            }

            var (parsed, referencedNames) = AvroSchemaParser.Parse(schema, texts);
            AvroNesting.Check(parsed);
            return new ParsedAvroSchema(parsed, JsonText.Compact(schema), AvroNormalForm.Of(parsed, referencedNames));
        }
        catch (AvroSchemaParseException e)
        {
            throw new InvalidSchemaException("Invalid schema: " + e.Message, e);
        }
        catch (JsonException e)
        {
            throw new InvalidSchemaException("Invalid schema: not JSON: " + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // What JsonElement.GetString throws for an escaped lone surrogate ("\ud800") in the schema's text.
            throw new InvalidSchemaException("Invalid schema: " + e.Message, e);
        }
    }
}

/// <summary>A parsed Avro schema.</summary>
public sealed class ParsedAvroSchema : ParsedSchema
{
    internal ParsedAvroSchema(AvroSchema schema, string canonicalText, string normalizedText)
    {
        Schema = schema;
        CanonicalText = canonicalText;
        NormalizedText = normalizedText;
    }

    /// <summary>The parsed schema graph.</summary>
    public AvroSchema Schema { get; }

    /// <inheritdoc/>
    public override SchemaType Type => SchemaType.AVRO;

    /// <inheritdoc/>
    public override string CanonicalText { get; }

    /// <inheritdoc/>
    /// <remarks>See <see cref="AvroNormalForm"/> for what is kept and why.</remarks>
    public override string NormalizedText { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<SchemaIncompatibility> ReadIncompatibilities(ParsedSchema writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (writer is not ParsedAvroSchema avroWriter)
        {
            return [new SchemaIncompatibility("TYPE_MISMATCH", "/", $"An {SchemaType.AVRO} schema cannot read data written with a {writer.Type} schema.")];
        }

        return AvroCompatibility.CanRead(Schema, avroWriter.Schema).Incompatibilities
            .Select(x => new SchemaIncompatibility(x.Kind.ToString(), x.Location, x.Message))
            .ToList();
    }
}
