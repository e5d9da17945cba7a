using System.Globalization;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace EventPlatform.Schemas.Tests.Protobuf;

/// <summary>A JSON message as the encoder gets it, and as the decoder must give it back.</summary>
public sealed record JsonCase(string Input, string Expected)
{
    public override string ToString() => Input;
}

/// <summary>A random instance of the seed's Event message.</summary>
public sealed record EventJson(JsonCase Case)
{
    public override string ToString() => Case.Input;
}

/// <summary>A random instance of the test Sample message.</summary>
public sealed record SampleJson(JsonCase Case)
{
    public override string ToString() => Case.Input;
}

/// <summary>Random instances of the test schemas in their canonical JSON form.</summary>
public static class ProtobufJsonGenerators
{
    private static readonly Gen<string> Text =
        Gen.ListOf(Gen.Elements("a", "Z", "0", " ", "_", "é", "中", "🙂", "\"", "\\", "\n", "<", "'"))
            .Select(parts => string.Concat(parts.Take(12)));

    private static readonly Gen<string> NonEmptyText = Text.Select(t => t.Length == 0 ? "x" : t);

    private static readonly Gen<double> FiniteDouble = Gen.OneOf(
        Gen.Choose(-1000, 1000).Select(i => (double)i),
        Gen.Choose(-1000000, 1000000).Select(i => i / 1024.0),
        ArbMap.Default.GeneratorFor<double>().Where(double.IsFinite));

    public static Arbitrary<EventJson> Events() => Arb.From(Event().Select(c => new EventJson(c)));

    public static Arbitrary<SampleJson> Samples() => Arb.From(Sample().Select(c => new SampleJson(c)));

    /// <summary>A Struct: an object of any JSON values (Google's JSON formatter refuses empty keys).</summary>
    public static Gen<JsonObject> Struct(int depth, bool emptyKeys = true) =>
        Gen.ListOf(Gen.Zip(emptyKeys ? Text : NonEmptyText, Value(depth, emptyKeys)))
            .Select(pairs => new JsonObject(pairs.Take(4).DistinctBy(p => p.Item1)
                .Select(p => KeyValuePair.Create(p.Item1, p.Item2))));

    private static Gen<JsonNode?> Value(int depth, bool emptyKeys)
    {
        var leaf = Gen.OneOf(
            Gen.Constant<JsonNode?>(null),
            Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
            FiniteDouble.Select(d => (JsonNode?)JsonValue.Create(d)),
            Text.Select(t => (JsonNode?)JsonValue.Create(t)));
        if (depth == 0)
        {
            return leaf;
        }

        return Gen.OneOf(
            leaf,
            leaf,
            Gen.ListOf(Value(depth - 1, emptyKeys)).Select(items => (JsonNode?)new JsonArray([.. items.Take(4)])),
            Struct(depth - 1, emptyKeys).Select(o => (JsonNode?)o));
    }

    /// <summary>An RFC 3339 UTC timestamp with 0, 3, 6 or 9 fraction digits (the decoder's form).</summary>
    public static Gen<string> Timestamp() =>
        from thousands in Gen.Choose(-62135596, 253402300)
        from rest in Gen.Choose(0, 799)
        from fraction in Fraction()
        select DateTime.UnixEpoch.AddSeconds((thousands * 1000L) + rest)
            .ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture) + fraction + "Z";

    private static Gen<string> Fraction() => Gen.OneOf(
        Gen.Constant(string.Empty),
        Gen.Choose(1, 999).Select(ms => "." + ms.ToString("000", CultureInfo.InvariantCulture)),
        Gen.Choose(1, 999999).Where(us => us % 1000 != 0).Select(us => "." + us.ToString("000000", CultureInfo.InvariantCulture)),
        Gen.Choose(1, 999999999).Where(ns => ns % 1000 != 0).Select(ns => "." + ns.ToString("000000000", CultureInfo.InvariantCulture)));

    private static Gen<string> Duration() =>
        from seconds in Gen.Choose(0, int.MaxValue)
        from fraction in Fraction()
        from negative in Gen.Elements(true, false)
        let sign = negative && (seconds != 0 || fraction.Length > 0) ? "-" : string.Empty
        select sign + seconds.ToString(CultureInfo.InvariantCulture) + fraction + "s";

    private static Gen<JsonCase> Event() =>
        from id in Text
        from timestamp in Optional(Timestamp().Select(t => (JsonNode)JsonValue.Create(t)))
        from type in Text
        from user in Optional(Text.Select(t => (JsonNode)JsonValue.Create(t)))
        from device in Optional(Text.Select(t => (JsonNode)JsonValue.Create(t)))
        from payload in Optional(Struct(3).Select(o => (JsonNode)o))
        from metadata in Optional(Struct(1).Select(o => (JsonNode)o))
        select Case(
            ("event_id", JsonValue.Create(id), id.Length == 0),
            ("timestamp", timestamp, false),
            ("event_type", JsonValue.Create(type), type.Length == 0),
            ("user_id", user, false),
            ("device_id", device, false),
            ("payload", payload, false),
            ("metadata", metadata, false));

    /// <summary>Properties in declaration order; a null value is left out; an omitted one is sent but not expected back.</summary>
    private static JsonCase Case(params (string Name, JsonNode? Value, bool Omitted)[] properties)
    {
        var input = new JsonObject();
        var expected = new JsonObject();
        foreach (var (name, value, omitted) in properties.Where(p => p.Value is not null))
        {
            input[name] = value!.DeepClone();
            if (!omitted)
            {
                expected[name] = value.DeepClone();
            }
        }

        return new JsonCase(input.ToJsonString(), expected.ToJsonString());
    }

    private static Gen<JsonNode?> Optional(Gen<JsonNode> value) =>
        Gen.OneOf(Gen.Constant<JsonNode?>(null), value.Select(v => (JsonNode?)v));

    private static Gen<JsonNode> Number<T>(Gen<T> values, T zero) =>
        values.Where(v => !EqualityComparer<T>.Default.Equals(v, zero)).Select(v => (JsonNode)JsonValue.Create(v)!);

    private static Gen<JsonNode> Array(Gen<JsonNode> item) =>
        Gen.ListOf(item).Where(items => items.Count > 0).Select(items => (JsonNode)new JsonArray([.. items.Take(5)]));

    private static Gen<JsonNode> Inner() =>
        from name in Optional(NonEmptyText.Select(t => (JsonNode)JsonValue.Create(t)))
        from values in Optional(Array(ArbMap.Default.GeneratorFor<long>().Select(v => (JsonNode)JsonValue.Create(v))))
        select (JsonNode)JsonNode.Parse(Case(("name", name, false), ("values", values, false)).Input)!;

    private static Gen<JsonNode> Map<TKey>(Gen<TKey> keys, Gen<JsonNode> values) =>
        Gen.ListOf(Gen.Zip(keys, values)).Where(p => p.Count > 0)
            .Select(pairs => (JsonNode)new JsonObject(pairs.Take(4)
                .Select(p => KeyValuePair.Create(Convert.ToString(p.Item1, CultureInfo.InvariantCulture)!, (JsonNode?)p.Item2))
                .DistinctBy(p => p.Key)));

    private static Gen<JsonCase> Sample()
    {
        var longs = ArbMap.Default.GeneratorFor<long>();
        var ints = ArbMap.Default.GeneratorFor<int>();
        var fields = new (string Name, Gen<JsonNode> Value)[]
        {
            ("d", Gen.OneOf(Number(FiniteDouble, 0.0), Gen.Elements("NaN", "Infinity", "-Infinity").Select(s => (JsonNode)JsonValue.Create(s)))),
            ("f", Number(ArbMap.Default.GeneratorFor<float>().Where(float.IsFinite), 0f)),
            ("i64", Number(longs, 0L)),
            ("u64", Number(ArbMap.Default.GeneratorFor<ulong>(), 0UL)),
            ("i32", Number(ints, 0)),
            ("f64", Number(ArbMap.Default.GeneratorFor<ulong>(), 0UL)),
            ("f32", Number(ArbMap.Default.GeneratorFor<uint>(), 0U)),
            ("b", Gen.Constant((JsonNode)JsonValue.Create(true))),
            ("s", NonEmptyText.Select(t => (JsonNode)JsonValue.Create(t))),
            ("by", Gen.ListOf(ArbMap.Default.GeneratorFor<byte>()).Where(b => b.Count > 0).Select(b => (JsonNode)JsonValue.Create(Convert.ToBase64String([.. b])))),
            ("u32", Number(ArbMap.Default.GeneratorFor<uint>(), 0U)),
            ("color", Gen.Elements("RED", "GREEN").Select(c => (JsonNode)JsonValue.Create(c))),
            ("sf32", Number(ints, 0)),
            ("sf64", Number(longs, 0L)),
            ("s32", Number(ints, 0)),
            ("s64", Number(longs, 0L)),
            ("packed_ints", Array(ints.Select(i => (JsonNode)JsonValue.Create(i)))),
            ("names", Array(Text.Select(t => (JsonNode)JsonValue.Create(t)))),
            ("inners", Array(Inner())),
            ("by_name", Map(Text, Inner())),
            ("labels", Map(ints, Text.Select(t => (JsonNode)JsonValue.Create(t)))),
            ("choice", Gen.Constant((JsonNode)new JsonObject())),
            ("maybe_count", longs.Select(v => (JsonNode)JsonValue.Create(v))),
            ("maybe_name", Text.Select(t => (JsonNode)JsonValue.Create(t))),
            ("elapsed", Duration().Select(d => (JsonNode)JsonValue.Create(d))),
            ("unpacked", Array(FiniteDouble.Select(d => (JsonNode)JsonValue.Create(d)))),
        };
        var choice = Gen.OneOf(
            Gen.Constant(("text", (JsonNode)JsonValue.Create("")!)),
            NonEmptyText.Select(t => ("text", (JsonNode)JsonValue.Create(t)!)),
            Inner().Select(i => ("inner", i)));
        return from present in Gen.ListOf(Gen.Elements(true, false), fields.Length)
               from values in Gen.CollectToSequence(fields.Select(f => Optional(f.Value)))
               from chosen in choice
               select Case(fields.Zip(values, present)
                   .SelectMany(f => f.First.Name == "choice"
                       ? (f.Third ? new[] { (chosen.Item1, (JsonNode?)chosen.Item2, false) } : [])
                       : new[] { (f.First.Name, (JsonNode?)f.Second, false) })
                   .ToArray());
    }
}
