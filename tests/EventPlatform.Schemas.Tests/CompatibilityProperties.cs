using System.Globalization;
using System.Text;
using EventPlatform.Schemas.Compatibility;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Schemas.Tests;

/// <summary>A random Avro type, rendered to schema JSON with unique names for its named types.</summary>
public abstract record RandomType
{
    public sealed record Primitive(string Name) : RandomType;

    public sealed record Array(RandomType Items) : RandomType;

    public sealed record Map(RandomType Values) : RandomType;

    public sealed record Nullable(RandomType Value) : RandomType;

    public sealed record Enum(int Symbols) : RandomType;

    public sealed record Fixed(int Size) : RandomType;

    public sealed record Record(IReadOnlyList<RandomField> Fields) : RandomType;

    /// <summary>Whether this generator gives a field of this type a default (records never get one).</summary>
    public bool CanHaveDefault => this is not Record and not Fixed;

    public string Render(ref int counter)
    {
        switch (this)
        {
            case Primitive p:
                return $"\"{p.Name}\"";
            case Array a:
                return $$"""{"type": "array", "items": {{a.Items.Render(ref counter)}}}""";
            case Map m:
                return $$"""{"type": "map", "values": {{m.Values.Render(ref counter)}}}""";
            case Nullable n:
                return $"[\"null\", {n.Value.Render(ref counter)}]";
            case Enum e:
                var symbols = string.Join(", ", Enumerable.Range(0, e.Symbols).Select(i => $"\"S{i}\""));
                return $$"""{"type": "enum", "name": "E{{counter++}}", "symbols": [{{symbols}}]}""";
            case Fixed f:
                return $$"""{"type": "fixed", "name": "F{{counter++}}", "size": {{f.Size}}}""";
            default:
                var record = (Record)this;
                var name = $"R{counter++}";
                var fields = new StringBuilder();
                for (var i = 0; i < record.Fields.Count; i++)
                {
                    fields.Append(i == 0 ? "" : ", ").Append(record.Fields[i].Render(ref counter));
                }

                return $$"""{"type": "record", "name": "{{name}}", "namespace": "com.random", "fields": [{{fields}}]}""";
        }
    }

    /// <summary>A valid default value for the type (only for <see cref="CanHaveDefault"/> types).</summary>
    public string DefaultJson => this switch
    {
        Nullable => "null",
        Array => "[]",
        Map => "{}",
        Enum => "\"S0\"",
        Primitive { Name: "null" } => "null",
        Primitive { Name: "boolean" } => "false",
        Primitive { Name: "string" or "bytes" } => "\"\"",
        _ => "0",
    };
}

/// <summary>A random record field.</summary>
public sealed record RandomField(string Name, RandomType Type, bool HasDefault)
{
    public string Render(ref int counter)
    {
        var type = Type.Render(ref counter);
        var value = HasDefault ? ", \"default\": " + Type.DefaultJson : "";
        return $$"""{"name": "{{Name}}", "type": {{type}}{{value}}}""";
    }
}

public static class RandomSchemas
{
    private static readonly Gen<RandomType> Primitive =
        Gen.Elements("null", "boolean", "int", "long", "float", "double", "bytes", "string").Select(n => (RandomType)new RandomType.Primitive(n));

    private static Gen<RandomType> Type(int depth)
    {
        var leaf = Gen.OneOf(
            Primitive,
            Gen.Choose(1, 4).Select(n => (RandomType)new RandomType.Enum(n)),
            Gen.Choose(0, 16).Select(n => (RandomType)new RandomType.Fixed(n)));
        if (depth == 0)
        {
            return leaf;
        }

        var inner = Type(depth - 1);
        return Gen.OneOf(
            leaf,
            leaf,
            inner.Select(t => (RandomType)new RandomType.Array(t)),
            inner.Select(t => (RandomType)new RandomType.Map(t)),
            inner.Where(t => t is not RandomType.Primitive { Name: "null" }).Select(t => (RandomType)new RandomType.Nullable(t)),
            Record(depth - 1).Select(r => (RandomType)r));
    }

    public static Gen<RandomType.Record> Record(int depth) =>
        from count in Gen.Choose(1, 5)
        from fields in Gen.ListOf(Gen.Zip(Type(depth), Gen.Elements(true, false)), count)
        select new RandomType.Record(fields
            .Select((f, i) => new RandomField($"f{i}", f.Item1, f.Item2 && f.Item1.CanHaveDefault))
            .ToList());

    public static Arbitrary<RandomType.Record> Records() => Arb.From(Gen.Sized(size => Record(Math.Min(3, size / 25))));

    public static string Json(RandomType.Record record)
    {
        var counter = 0;
        return record.Render(ref counter);
    }
}

public class CompatibilityProperties
{
    // Not a seed property (the seed has none for schema evolution): compatibility is reflexive,
    // adding a field with a default keeps every level, and removing a field breaks FORWARD
    // exactly when the removed field had no default.
    [Property(MaxTest = 200, Arbitrary = [typeof(RandomSchemas)])]
    public void Evolving_a_random_record_keeps_or_breaks_compatibility_as_the_rules_say(RandomType.Record record, NonNegativeInt pick)
    {
        var schema = RandomSchemas.Json(record);
        foreach (var level in System.Enum.GetValues<CompatibilityLevel>())
        {
            Assert.Empty(AvroCompatibility.Check(level, schema, [schema, schema]).Incompatibilities);
        }

        var added = record with { Fields = [.. record.Fields, new RandomField("added", record.Fields[0].Type, record.Fields[0].Type.CanHaveDefault)] };
        if (record.Fields[0].Type.CanHaveDefault)
        {
            Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.FULL_TRANSITIVE, RandomSchemas.Json(added), [schema]).Incompatibilities);
        }
        else
        {
            var problem = Assert.Single(AvroCompatibility.Check(CompatibilityLevel.FULL, RandomSchemas.Json(added), [schema]).Incompatibilities);
            Assert.Equal((AvroIncompatibilityKind.READER_FIELD_MISSING_DEFAULT_VALUE, "/fields/added"), (problem.Kind, problem.Location));
        }

        // Removing a field renumbers the names of later named types, so keep names stable by
        // replacing the removed field's type with a primitive before rendering both versions.
        var index = pick.Get % record.Fields.Count;
        var removed = record.Fields[index];
        var stable = record with { Fields = record.Fields.Select((f, i) => i == index ? f with { Type = new RandomType.Primitive("int"), HasDefault = removed.HasDefault } : f).ToList() };
        var without = stable with { Fields = stable.Fields.Where((_, i) => i != index).ToList() };
        Assert.Empty(AvroCompatibility.Check(CompatibilityLevel.BACKWARD, RandomSchemas.Json(without), [RandomSchemas.Json(stable)]).Incompatibilities);
        var forward = AvroCompatibility.Check(CompatibilityLevel.FORWARD, RandomSchemas.Json(without), [RandomSchemas.Json(stable)]);
        Assert.Equal(
            removed.HasDefault ? [] : [$"READER_FIELD_MISSING_DEFAULT_VALUE /fields/{removed.Name}"],
            forward.Incompatibilities.Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.Kind} {i.Location}")));
    }
}
