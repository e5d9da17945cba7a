using EventPlatform.SchemaRegistry.Schemas;

namespace EventPlatform.SchemaRegistry.JsonSchemas;

/// <summary>
/// Rejects schemas that apply themselves to the same value forever (<c>{"$ref": "#"}</c>,
/// <c>{"allOf": [{"$ref": "#"}]}</c>): validation would never end. Recursion through
/// <c>properties</c> or <c>items</c> is fine: each step goes one level into the instance.
/// </summary>
internal static class RefLoops
{
    public static void Reject(IEnumerable<SchemaNode> nodes)
    {
        var state = new Dictionary<SchemaNode, bool>(ReferenceEqualityComparer.Instance); // false = on the path, true = done
        foreach (var node in nodes)
        {
            Visit(node, state);
        }
    }

    private static void Visit(SchemaNode node, Dictionary<SchemaNode, bool> state)
    {
        if (state.TryGetValue(node, out var done))
        {
            if (!done)
            {
                throw new InvalidSchemaException($"Invalid JSON schema at '{node.Location}': $ref loop that never descends into the instance");
            }

            return;
        }

        state[node] = false;
        foreach (var next in SameValueApplicators(node))
        {
            Visit(next, state);
        }

        state[node] = true;
    }

    private static IEnumerable<SchemaNode> SameValueApplicators(SchemaNode node)
    {
        IEnumerable<SchemaNode?> all = [node.Ref, node.Not, node.If, node.Then, node.Else,
            .. node.AllOf ?? [], .. node.AnyOf ?? [], .. node.OneOf ?? [], .. node.DependentSchemas.Select(d => d.Schema)];
        return all.OfType<SchemaNode>();
    }
}
