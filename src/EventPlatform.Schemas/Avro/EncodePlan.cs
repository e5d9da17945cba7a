using System.Buffers;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Turns a schema into a tree (a graph, for recursive records) of encode nodes, so encoding does
/// no schema inspection per value, and encodes every field default once.
/// </summary>
internal sealed class EncodePlan
{
    private readonly Dictionary<AvroNamedSchema, EncodeNode> _named = new(ReferenceEqualityComparer.Instance);
    private readonly List<RecordNode> _records = [];
    private readonly AvroJsonEncoderOptions _options;

    private EncodePlan(AvroJsonEncoderOptions options) => _options = options;

    public static EncodeNode Build(AvroSchema schema, AvroJsonEncoderOptions options)
    {
        var plan = new EncodePlan(options);
        var root = plan.Node(schema);
        foreach (var record in plan._records)
        {
            record.EncodeDefaults(options);
        }

        return root;
    }

    private EncodeNode Node(AvroSchema schema)
    {
        if (schema is AvroNamedSchema named && _named.TryGetValue(named, out var known))
        {
            return known;
        }

        switch (schema)
        {
            case AvroRecordSchema record:
                var node = new RecordNode(record);
                _named[record] = node;
                _records.Add(node);
                node.SetFields(record.Fields.Select(f => Node(f.Type)).ToArray());
                return node;
            case AvroEnumSchema e:
                return _named[e] = new EnumNode(e);
            case AvroFixedSchema f:
                return _named[f] = new FixedNode(f);
            case AvroArraySchema a:
                return new ArrayNode(Node(a.Items));
            case AvroMapSchema m:
                return new MapNode(Node(m.Values));
            case AvroUnionSchema u:
                return new UnionNode(u, u.Branches.Select(Node).ToArray(), _options);
            default:
                return PrimitiveNode(schema);
        }
    }

    private static EncodeNode PrimitiveNode(AvroSchema schema) => schema.TypeName switch
    {
        "null" => NullNode.Instance,
        "boolean" => BooleanNode.Instance,
        "int" => IntNode.Instance,
        "long" => new LongNode(TimestampUnitOf(schema.LogicalType?.Name)),
        "float" => new FloatingNode(isDouble: false),
        "double" => new FloatingNode(isDouble: true),
        "bytes" => BytesNode.Instance,
        "string" => StringNode.Instance,
        _ => throw new ArgumentException($"Unknown Avro type '{schema.TypeName}'.", nameof(schema)),
    };

    private static TimestampUnit TimestampUnitOf(string? logicalType) => logicalType switch
    {
        "timestamp-millis" or "local-timestamp-millis" => TimestampUnit.Millis,
        "timestamp-micros" or "local-timestamp-micros" => TimestampUnit.Micros,
        "timestamp-nanos" or "local-timestamp-nanos" => TimestampUnit.Nanos,
        _ => TimestampUnit.None,
    };

    /// <summary>Encodes a schema default (already validated by the parser) in default mode.</summary>
    public static byte[]? EncodeDefault(EncodeNode node, JsonElement value, AvroJsonEncoderOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var context = EncodeContext.Rent(options, defaultMode: true);
        try
        {
            node.Encode(value, buffer, context);
            return context.HasErrors ? null : buffer.WrittenSpan.ToArray();
        }
        finally
        {
            EncodeContext.Return(context);
        }
    }
}
