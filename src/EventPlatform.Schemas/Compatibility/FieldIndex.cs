namespace EventPlatform.Schemas.Compatibility;

/// <summary>
/// A record's fields by name, for schema resolution: the writer's field a reader field reads, by its
/// name or else by its aliases (the first such writer field). Linear to build, constant per lookup.
/// </summary>
internal sealed class FieldIndex
{
    private readonly Dictionary<string, (AvroField Field, int Position)> _byName = new(StringComparer.Ordinal);

    private FieldIndex(IReadOnlyList<AvroField> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            _byName.TryAdd(fields[i].Name, (fields[i], i));
        }
    }

    public static FieldIndex Of(IReadOnlyList<AvroField> fields) => new(fields);

    /// <summary>The field named like <paramref name="reader"/>, else the first one named by its aliases; fields in <paramref name="taken"/> are skipped.</summary>
    public AvroField? Find(AvroField reader, IReadOnlyDictionary<AvroField, AvroField>? taken)
    {
        if (_byName.TryGetValue(reader.Name, out var named) && (taken is null || !taken.ContainsKey(named.Field)))
        {
            return named.Field;
        }

        (AvroField Field, int Position)? first = null;
        foreach (var alias in reader.Aliases)
        {
            if (_byName.TryGetValue(alias, out var aliased) && (taken is null || !taken.ContainsKey(aliased.Field))
                && (first is null || aliased.Position < first.Value.Position))
            {
                first = aliased;
            }
        }

        return first?.Field;
    }
}
