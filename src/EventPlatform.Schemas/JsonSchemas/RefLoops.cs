namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Rejects schemas that apply themselves to the same value forever (<c>{"$ref": "#"}</c>,
/// <c>{"allOf": [{"$ref": "#"}]}</c>): validation would never end. Recursion through
/// <c>properties</c> or <c>items</c> is fine: each step goes one level into the instance.
/// Also rejects chains of schemas applied to one value (<c>$ref</c> to <c>$ref</c> to ..., nested
/// <c>anyOf</c>) longer than <see cref="SchemaLimits.MaxNestingDepth"/>, so that validation and
/// comparison, which follow those chains, stay within their stack.
/// </summary>
internal static class RefLoops
{
    public static void Reject(IEnumerable<SchemaNode> nodes)
    {
        // The longest same-value chain starting at each finished node; a node on the current path is in onPath.
        var height = new Dictionary<SchemaNode, int>(ReferenceEqualityComparer.Instance);
        var onPath = new HashSet<SchemaNode>(ReferenceEqualityComparer.Instance);
        // An explicit stack: a schema of 100,000 chained $refs must not recurse 100,000 frames deep.
        var path = new Stack<(SchemaNode Node, SchemaNode[] Next, int Index)>();
        foreach (var start in nodes)
        {
            if (height.ContainsKey(start))
            {
                continue;
            }

            onPath.Add(start);
            path.Push((start, SameValueApplicators(start), 0));
            while (path.Count > 0)
            {
                var (node, next, index) = path.Pop();
                if (index < next.Length)
                {
                    path.Push((node, next, index + 1));
                    var child = next[index];
                    if (height.ContainsKey(child))
                    {
                        continue;
                    }

                    if (onPath.Contains(child))
                    {
                        throw new InvalidSchemaException($"Invalid JSON schema at '{child.Location}': $ref loop that never descends into the instance");
                    }

                    if (path.Count >= SchemaLimits.MaxNestingDepth)
                    {
                        throw SchemaLimits.TooDeep($"$ref/allOf/anyOf/oneOf/not/if chain applied to one value, at '{child.Location}'");
                    }

                    onPath.Add(child);
                    path.Push((child, SameValueApplicators(child), 0));
                    continue;
                }

                var longest = 0;
                foreach (var child in next)
                {
                    longest = Math.Max(longest, height[child]);
                }

                if (longest + 1 > SchemaLimits.MaxNestingDepth)
                {
                    throw SchemaLimits.TooDeep($"$ref/allOf/anyOf/oneOf/not/if chain applied to one value, at '{node.Location}'");
                }

                height[node] = longest + 1;
                onPath.Remove(node);
            }
        }
    }

    private static SchemaNode[] SameValueApplicators(SchemaNode node)
    {
        IEnumerable<SchemaNode?> all = [node.Ref, node.Not, node.If, node.Then, node.Else,
            .. node.AllOf ?? [], .. node.AnyOf ?? [], .. node.OneOf ?? [], .. node.DependentSchemas.Select(d => d.Schema)];
        return all.OfType<SchemaNode>().ToArray();
    }
}
