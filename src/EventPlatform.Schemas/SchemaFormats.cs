using EventPlatform.Schemas.Avro;
using EventPlatform.Schemas.JsonSchemas;
using EventPlatform.Schemas.Protobuf;

namespace EventPlatform.Schemas;

/// <summary>The schema types this build understands, by type.</summary>
public sealed class SchemaFormats
{
    private readonly Dictionary<SchemaType, ISchemaFormat> _formats;

    /// <summary>Creates the set from the given formats.</summary>
    public SchemaFormats(IEnumerable<ISchemaFormat> formats) => _formats = formats.ToDictionary(f => f.Type);

    /// <summary>Every format of this build.</summary>
    public static SchemaFormats All { get; } = new([AvroFormat.Instance, JsonSchemaFormat.Instance, ProtobufFormat.Instance]);

    /// <summary>The types, as <c>GET /schemas/types</c> lists them.</summary>
    public IEnumerable<SchemaType> Types => _formats.Keys.Order();

    /// <summary>The format of a type, if supported.</summary>
    public ISchemaFormat? Find(SchemaType type) => _formats.GetValueOrDefault(type);
}
