using EventPlatform.Schemas.Compatibility;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// Refuses Avro schemas whose types nest deeper than <see cref="SchemaLimits.MaxNestingDepth"/>.
/// One schema text cannot nest deeper than its JSON allows, but a record from a reference can hold
/// a record from another reference, and so on: the codec plans, the normal form and the
/// compatibility check all recurse along that chain.
/// </summary>
internal static class AvroNesting
{
    /// <exception cref="InvalidSchemaException">The schema nests too deep.</exception>
    public static void Check(AvroSchema root)
    {
        // Heights of finished named types; a named type met again on its own path is recursion (walks stop there).
        var height = new Dictionary<AvroSchema, int>(ReferenceEqualityComparer.Instance);
        var onPath = new HashSet<AvroSchema>(ReferenceEqualityComparer.Instance);
        var path = new Stack<(AvroSchema Schema, AvroSchema[] Children, int Index, int Tallest)>();
        path.Push((root, Children(root), 0, 0));
        onPath.Add(root);
        while (path.Count > 0)
        {
            var (schema, children, index, tallest) = path.Pop();
            if (index < children.Length)
            {
                var child = children[index];
                if (height.TryGetValue(child, out var known))
                {
                    path.Push((schema, children, index + 1, Math.Max(tallest, known)));
                    continue;
                }

                path.Push((schema, children, index + 1, tallest));
                if (onPath.Contains(child))
                {
                    continue;
                }

                if (path.Count >= SchemaLimits.MaxNestingDepth)
                {
                    throw SchemaLimits.TooDeep($"Avro types nested in types, at {child.Describe()}");
                }

                onPath.Add(child);
                path.Push((child, Children(child), 0, 0));
                continue;
            }

            // Heights reused from finished types are not on the path: the height itself is the bound.
            var own = tallest + 1;
            if (own > SchemaLimits.MaxNestingDepth)
            {
                throw SchemaLimits.TooDeep($"Avro types nested in types, at {schema.Describe()}");
            }

            if (schema is AvroNamedSchema)
            {
                height[schema] = own;
            }

            onPath.Remove(schema);
            if (path.Count > 0)
            {
                var (parent, siblings, next, parentTallest) = path.Pop();
                path.Push((parent, siblings, next, Math.Max(parentTallest, own)));
            }
        }
    }

    private static AvroSchema[] Children(AvroSchema schema) => schema switch
    {
        AvroRecordSchema r => r.Fields.Select(f => f.Type).ToArray(),
        AvroArraySchema a => [a.Items],
        AvroMapSchema m => [m.Values],
        AvroUnionSchema u => [.. u.Branches],
        _ => [],
    };
}
