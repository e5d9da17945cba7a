namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>The shapes Confluent's comparison distinguishes (its JSON Schema library's schema classes).</summary>
internal enum ViewKind
{
    Empty,
    False,
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
    Enum,
    Const,
    Combined,
    Not,
    Conditional,
}

/// <summary>The keywords that combine subschemas.</summary>
internal enum Criterion
{
    AllOf,
    AnyOf,
    OneOf,
}

/// <summary>
/// A schema as Confluent's comparison sees it: one shape, where a schema with keywords of several
/// shapes (say <c>type</c> and <c>enum</c>) is an implicit allOf of one view per shape, and a type
/// array is an anyOf of one view per type. The keyword values stay on <see cref="Node"/>.
/// </summary>
internal sealed class SchemaView
{
    public required ViewKind Kind { get; init; }

    public required SchemaNode Node { get; init; }

    public Criterion Criterion { get; init; }

    public IReadOnlyList<SchemaView> Subschemas { get; init; } = [];

    /// <summary>For <see cref="ViewKind.Number"/>: only integers (<c>type: integer</c>).</summary>
    public bool RequiresInteger { get; init; }
}

/// <summary>Builds (and caches, so recursive schemas give a finite graph) the views of nodes.</summary>
internal sealed class SchemaViews
{
    private readonly Dictionary<SchemaNode, SchemaView> views = new(ReferenceEqualityComparer.Instance);

    public SchemaView? Of(SchemaNode? node)
    {
        if (node is null)
        {
            return null;
        }

        if (views.TryGetValue(node, out var view))
        {
            return view;
        }

        // A $ref that replaces its siblings is its target (Confluent compares referred schemas).
        if (node.Ref is not null && (node.RefOverridesSiblings || !HasOwnShape(node)))
        {
            var target = Of(node.Ref)!;
            views[node] = target;
            return target;
        }

        var parts = new List<SchemaView>();
        // Registered before its parts are built so that cycles through properties end here.
        var result = new SchemaView { Kind = ViewKind.Combined, Node = node, Criterion = Criterion.AllOf, Subschemas = parts };
        views[node] = result;
        parts.AddRange(Parts(node));
        if (parts.Count <= 1)
        {
            var single = parts.Count == 1 ? parts[0]
                : new SchemaView { Kind = node.IsFalse ? ViewKind.False : ViewKind.Empty, Node = node };
            views[node] = single;
            return single;
        }

        return result;
    }

    private IEnumerable<SchemaView> Parts(SchemaNode node)
    {
        if (node.BooleanValue is not null)
        {
            yield break;
        }

        if (node.Ref is not null)
        {
            yield return Of(node.Ref)!;
        }

        if (node.Enum is not null)
        {
            yield return new SchemaView { Kind = ViewKind.Enum, Node = node };
        }

        if (node.Const is not null)
        {
            yield return new SchemaView { Kind = ViewKind.Const, Node = node };
        }

        foreach (var (criterion, branches) in new[] { (Criterion.AllOf, node.AllOf), (Criterion.AnyOf, node.AnyOf), (Criterion.OneOf, node.OneOf) })
        {
            if (branches is not null)
            {
                yield return new SchemaView { Kind = ViewKind.Combined, Node = node, Criterion = criterion, Subschemas = branches.Select(b => Of(b)!).ToList() };
            }
        }

        if (node.Not is not null)
        {
            yield return new SchemaView { Kind = ViewKind.Not, Node = node };
        }

        if (node.If is not null)
        {
            yield return new SchemaView { Kind = ViewKind.Conditional, Node = node };
        }

        var typed = TypedViews(node);
        if (typed.Count == 1 || (typed.Count > 1 && node.Types == JsonTypes.None))
        {
            // Untyped keywords of several types each constrain only their own type: all of them apply.
            foreach (var view in typed)
            {
                yield return view;
            }
        }
        else if (typed.Count > 1)
        {
            yield return new SchemaView { Kind = ViewKind.Combined, Node = node, Criterion = Criterion.AnyOf, Subschemas = typed };
        }
    }

    private static List<SchemaView> TypedViews(SchemaNode node)
    {
        var types = node.Types != JsonTypes.None ? node.Types : ImpliedTypes(node);
        var list = new List<SchemaView>();
        foreach (var (type, kind) in new[]
                 {
                     (JsonTypes.Object, ViewKind.Object), (JsonTypes.Array, ViewKind.Array), (JsonTypes.String, ViewKind.String),
                     (JsonTypes.Boolean, ViewKind.Boolean), (JsonTypes.Null, ViewKind.Null),
                 })
        {
            if ((types & type) != 0)
            {
                list.Add(new SchemaView { Kind = kind, Node = node });
            }
        }

        if ((types & (JsonTypes.Number | JsonTypes.Integer)) != 0)
        {
            list.Add(new SchemaView { Kind = ViewKind.Number, Node = node, RequiresInteger = (types & JsonTypes.Number) == 0 });
        }

        return list;
    }

    private static JsonTypes ImpliedTypes(SchemaNode n)
    {
        var types = JsonTypes.None;
        if (n.Properties is not null || n.Required.Length > 0 || n.AdditionalProperties is not null || n.PatternProperties.Length > 0
            || n.MinProperties is not null || n.MaxProperties is not null || n.DependentRequired.Length > 0 || n.DependentSchemas.Length > 0
            || n.PropertyNames is not null)
        {
            types |= JsonTypes.Object;
        }

        if (n.Items is not null || n.TupleItems is not null || n.AdditionalItems is not null || n.Contains is not null
            || n.MinItems is not null || n.MaxItems is not null || n.UniqueItems)
        {
            types |= JsonTypes.Array;
        }

        if (n.MinLength is not null || n.MaxLength is not null || n.Pattern is not null)
        {
            types |= JsonTypes.String;
        }

        if (n.Minimum is not null || n.Maximum is not null || n.ExclusiveMinimum is not null || n.ExclusiveMaximum is not null || n.MultipleOf is not null)
        {
            types |= JsonTypes.Number;
        }

        return types;
    }

    private static bool HasOwnShape(SchemaNode n) =>
        n.Types != JsonTypes.None || n.Enum is not null || n.Const is not null || n.AllOf is not null || n.AnyOf is not null
        || n.OneOf is not null || n.Not is not null || n.If is not null || ImpliedTypes(n) != JsonTypes.None;
}
