using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

internal sealed class ArrayNode(EncodeNode items) : EncodeNode
{
    public override string Describe => "an array";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.Array ? 0 : -1;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            Expected(context, value);
            return;
        }

        // One block holding every item, as Avro's own writers do.
        var count = value.GetArrayLength();
        if (count > 0)
        {
            AvroBinaryWriter.WriteBlockCount(output, count);
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (context.Enter(null, index++))
            {
                items.Encode(item, output, context);
                context.Leave();
            }
        }

        AvroBinaryWriter.WriteEndOfBlocks(output);
    }
}

internal sealed class MapNode(EncodeNode values) : EncodeNode
{
    public override string Describe => "an object (map)";

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => kind == JsonValueKind.Object ? 1 : -1;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Expected(context, value);
            return;
        }

        var count = 0;
        foreach (var _ in value.EnumerateObject())
        {
            count++;
        }

        if (count > 0)
        {
            AvroBinaryWriter.WriteBlockCount(output, count);
        }

        var index = 0;
        foreach (var entry in value.EnumerateObject())
        {
            var key = JsonMarshal.GetRawUtf8PropertyName(entry);
            if (key.Contains((byte)'\\'))
            {
                AvroBinaryWriter.WriteString(output, entry.Name.AsSpan());
            }
            else
            {
                AvroBinaryWriter.WriteString(output, key);
            }

            if (context.Enter(null, index++, value))
            {
                values.Encode(entry.Value, output, context);
                context.Leave();
            }
        }

        AvroBinaryWriter.WriteEndOfBlocks(output);
    }
}

internal sealed class UnionNode : EncodeNode
{
    private readonly AvroUnionSchema _schema;
    private readonly EncodeNode[] _branches;

    // Per JSON value kind, the branches that take it, preferred first.
    private readonly int[][] _candidates = new int[(int)JsonValueKind.Null + 1][];

    public UnionNode(AvroUnionSchema schema, EncodeNode[] branches, AvroJsonEncoderOptions options)
    {
        _schema = schema;
        _branches = branches;
        for (var kind = 0; kind < _candidates.Length; kind++)
        {
            var valueKind = (JsonValueKind)kind;
            _candidates[kind] = Enumerable.Range(0, branches.Length)
                .Where(i => branches[i].Preference(valueKind, options) >= 0)
                .OrderBy(i => branches[i].Preference(valueKind, options))
                .ThenBy(i => i)
                .ToArray();
        }
    }

    public override string Describe => _schema.Describe();

    public override int Preference(JsonValueKind kind, AvroJsonEncoderOptions options) => -1;

    public override void Encode(JsonElement value, IBufferWriter<byte> output, EncodeContext context)
    {
        // A default belongs to the first branch; a value goes to the first branch that takes it, else
        // to the most likely one so that its errors say what is wrong.
        var chosen = context.DefaultMode ? (_branches.Length > 0 ? 0 : -1) : Choose(value, context);
        if (chosen < 0)
        {
            context.Invalid($"no branch of {_schema.Describe()} takes {KindOf(value)}");
            return;
        }

        AvroBinaryWriter.WriteUnionIndex(output, chosen);
        _branches[chosen].Encode(value, output, context);
    }

    private int Choose(JsonElement value, EncodeContext context)
    {
        var candidates = _candidates[(int)value.ValueKind];
        foreach (var candidate in candidates)
        {
            if (_branches[candidate].Accepts(value, context))
            {
                return candidate;
            }
        }

        return candidates.Length > 0 ? candidates[0] : -1;
    }
}
