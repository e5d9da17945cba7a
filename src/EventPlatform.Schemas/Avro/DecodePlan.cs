using System.Buffers;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Resolves a writer schema against a reader schema once, into decode nodes: fields matched by
/// name or alias, promotions chosen, enum symbols mapped, reader union branches picked, defaults
/// rendered as JSON. Decoding then only follows the nodes.
/// </summary>
internal sealed class DecodePlan
{
    private readonly Dictionary<(AvroRecordSchema Writer, AvroRecordSchema Reader), RecordDecoder> _records = [];
    private readonly List<(RecordDecoder Node, AvroField Field, DecodeNode Identity)> _defaults = [];

    public static DecodeNode Build(AvroSchema writer, AvroSchema reader)
    {
        var plan = new DecodePlan();
        var root = plan.Resolve(writer, reader);
        foreach (var (node, field, identity) in plan._defaults)
        {
            if (RenderDefault(field, identity) is { } json)
            {
                node.Defaults = [.. node.Defaults, (JsonEncodedText.Encode(field.Name), json)];
            }
            else
            {
                node.Error ??= $"the default of field '{field.Name}' cannot be encoded";
            }
        }

        return root;
    }

    private DecodeNode Resolve(AvroSchema writer, AvroSchema reader)
    {
        if (writer is AvroUnionSchema writerUnion)
        {
            return new UnionDecoder(writerUnion.Branches.Select(b => Resolve(b, reader)).ToArray());
        }

        if (reader is AvroUnionSchema readerUnion)
        {
            return ReaderBranch(readerUnion, writer) is { } branch
                ? Resolve(writer, branch)
                : new ErrorDecoder($"the reader's {reader.Describe()} has no branch for the writer's {writer.Describe()}");
        }

        return (writer, reader) switch
        {
            (AvroRecordSchema w, AvroRecordSchema r) when AvroCompatibility.NamesMatch(r, w) => Record(w, r),
            (AvroEnumSchema w, AvroEnumSchema r) when AvroCompatibility.NamesMatch(r, w) => Enum(w, r),
            (AvroFixedSchema w, AvroFixedSchema r) when AvroCompatibility.NamesMatch(r, w) && w.Size == r.Size => new FixedDecoder(w.Size),
            (AvroArraySchema w, AvroArraySchema r) => new ArrayDecoder(Resolve(w.Items, r.Items), IsZeroWidth(w.Items, [])),
            (AvroMapSchema w, AvroMapSchema r) => new MapDecoder(Resolve(w.Values, r.Values)),
            (AvroPrimitiveSchema w, AvroPrimitiveSchema r) when ConversionOf(w.TypeName, r.TypeName) is { } c => PrimitiveDecoder.For(c),
            _ => new ErrorDecoder($"the reader's {reader.Describe()} cannot read the writer's {writer.Describe()}"),
        };
    }

    // The specification: the first reader branch that matches; an exact match is preferred to a
    // promotion, as Avro's Java resolver does, so that an int is read as the int branch of [long, int].
    private static AvroSchema? ReaderBranch(AvroUnionSchema reader, AvroSchema writer)
    {
        foreach (var branch in reader.Branches)
        {
            if (branch.TypeName == writer.TypeName && (branch is not AvroNamedSchema named || AvroCompatibility.NamesMatch(named, (AvroNamedSchema)writer)))
            {
                return branch;
            }
        }

        foreach (var branch in reader.Branches)
        {
            if (AvroCompatibility.Matches(branch, writer))
            {
                return branch;
            }
        }

        return null;
    }

    private RecordDecoder Record(AvroRecordSchema writer, AvroRecordSchema reader)
    {
        if (_records.TryGetValue((writer, reader), out var known))
        {
            return known;
        }

        var node = new RecordDecoder();
        _records[(writer, reader)] = node;

        // Each reader field takes the writer field of its name, else one named by its aliases.
        var readerFieldOf = new Dictionary<AvroField, AvroField>(ReferenceEqualityComparer.Instance);
        var writerFields = FieldIndex.Of(writer.Fields);
        foreach (var field in reader.Fields)
        {
            var written = writerFields.Find(field, readerFieldOf);
            if (written is not null)
            {
                readerFieldOf[written] = field;
            }
            else if (field.HasDefault)
            {
                _defaults.Add((node, field, Resolve(field.Type, field.Type)));
            }
            else
            {
                node.Error ??= $"field '{field.Name}' of the reader's {reader.Describe()} has no default and the writer's record has no such field";
            }
        }

        node.Steps = writer.Fields
            .Select(f => readerFieldOf.TryGetValue(f, out var r)
                ? ((JsonEncodedText?)JsonEncodedText.Encode(r.Name), Resolve(f.Type, r.Type))
                : (null, Resolve(f.Type, f.Type)))
            .ToArray();
        return node;
    }

    private static EnumDecoder Enum(AvroEnumSchema writer, AvroEnumSchema reader)
    {
        var readerSymbols = reader.Symbols.ToHashSet(StringComparer.Ordinal);
        var symbols = writer.Symbols
            .Select(s => readerSymbols.Contains(s) ? s : reader.Default)
            .Select(s => s is null ? (JsonEncodedText?)null : JsonEncodedText.Encode(s))
            .ToArray();
        return new EnumDecoder(writer.Symbols.Count, symbols, writer.Symbols.ToArray());
    }

    private static Conversion? ConversionOf(string writer, string reader) => (writer, reader) switch
    {
        ("null", "null") => Conversion.Null,
        ("boolean", "boolean") => Conversion.Boolean,
        ("int", "int" or "long" or "double") => Conversion.IntAsInt,
        ("int", "float") => Conversion.IntAsFloat,
        ("long", "long") => Conversion.LongAsLong,
        ("long", "float") => Conversion.LongAsFloat,
        ("long", "double") => Conversion.LongAsDouble,
        ("float", "float") => Conversion.FloatAsFloat,
        ("float", "double") => Conversion.FloatAsDouble,
        ("double", "double") => Conversion.DoubleAsDouble,
        ("string", "string") => Conversion.StringAsString,
        ("bytes", "bytes") => Conversion.BytesAsBytes,
        ("string", "bytes") => Conversion.StringAsBytes,
        ("bytes", "string") => Conversion.BytesAsString,
        _ => null,
    };

    // Items that take no bytes need a budget instead of the "no more items than bytes" check.
    private static bool IsZeroWidth(AvroSchema schema, HashSet<AvroRecordSchema> visiting) => schema switch
    {
        AvroPrimitiveSchema p => p.TypeName == "null",
        AvroFixedSchema f => f.Size == 0,
        AvroRecordSchema r => visiting.Add(r) && r.Fields.All(f => IsZeroWidth(f.Type, visiting)),
        _ => false,
    };

    // The default as the reader would decode it: encoded by the specification's rules, then read back.
    private static byte[]? RenderDefault(AvroField field, DecodeNode identity)
    {
        var bytes = EncodePlan.EncodeDefault(EncodePlan.Build(field.Type, AvroJsonEncoderOptions.Strict), field.Default!.Value, AvroJsonEncoderOptions.Strict);
        if (bytes is null)
        {
            return null;
        }

        var json = new ArrayBufferWriter<byte>(32);
        using (var writer = new Utf8JsonWriter(json, DecodeNode.JsonOptions))
        {
            var input = new AvroReader(bytes, AvroDecoderOptions.Default);
            identity.Read(ref input, writer);
        }

        return json.WrittenSpan.ToArray();
    }
}
