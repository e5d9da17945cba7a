using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// A schema's <c>properties</c>, looked up by the instance's raw UTF-8 property names so the hot
/// path never turns a property name into a string.
/// </summary>
internal sealed class PropertyTable
{
    // Below this many names a linear scan of short byte spans beats hashing.
    private const int LinearLimit = 8;

    private readonly byte[][] utf8Names;
    private readonly int[][]? buckets;

    public PropertyTable(string[] names, SchemaNode[] schemas)
    {
        Names = names;
        Schemas = schemas;
        utf8Names = new byte[names.Length][];
        for (var i = 0; i < names.Length; i++)
        {
            utf8Names[i] = Encoding.UTF8.GetBytes(names[i]);
        }

        if (names.Length > LinearLimit)
        {
            var lists = new List<int>[BucketCount(names.Length)];
            for (var i = 0; i < names.Length; i++)
            {
                var b = Hash(utf8Names[i]) & (lists.Length - 1);
                (lists[b] ??= []).Add(i);
            }

            buckets = new int[lists.Length][];
            for (var b = 0; b < lists.Length; b++)
            {
                buckets[b] = lists[b]?.ToArray() ?? [];
            }
        }
    }

    public string[] Names { get; }

    public SchemaNode[] Schemas { get; }

    public int Count => Names.Length;

    /// <summary>The schema of the instance's property, or null when the schema does not name it.</summary>
    public SchemaNode? Find(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.IndexOf((byte)'\\') >= 0)
        {
            // An escaped name: let System.Text.Json unescape while comparing (rare).
            for (var i = 0; i < utf8Names.Length; i++)
            {
                if (property.NameEquals(utf8Names[i]))
                {
                    return Schemas[i];
                }
            }

            return null;
        }

        if (buckets is null)
        {
            for (var i = 0; i < utf8Names.Length; i++)
            {
                if (raw.SequenceEqual(utf8Names[i]))
                {
                    return Schemas[i];
                }
            }

            return null;
        }

        foreach (var i in buckets[Hash(raw) & (buckets.Length - 1)])
        {
            if (raw.SequenceEqual(utf8Names[i]))
            {
                return Schemas[i];
            }
        }

        return null;
    }

    /// <summary>The schema named <paramref name="name"/>, or null.</summary>
    public SchemaNode? Find(string name)
    {
        var i = Array.IndexOf(Names, name);
        return i < 0 ? null : Schemas[i];
    }

    private static int BucketCount(int count)
    {
        var size = 16;
        while (size < count * 2)
        {
            size *= 2;
        }

        return size;
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        // FNV-1a: cheap and good enough for a handful of short names.
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash & 0x7fffffff);
    }
}
