using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>The JSON types a <c>type</c> keyword can name; integer is a subset of number.</summary>
[Flags]
internal enum JsonTypes
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    String = 32,
    Integer = 64,
}

/// <summary>
/// One schema with its keywords read into fields once, so validation and comparison never look
/// keywords up by name. Built by <see cref="SchemaLoader"/>; immutable (and thread-safe) afterwards.
/// </summary>
internal sealed class SchemaNode
{
    /// <summary>The JSON pointer of this schema in its document, e.g. <c>#/properties/amount</c>.</summary>
    public required string Location { get; init; }

    /// <summary>Set for the boolean schemas <c>true</c> and <c>false</c> (and <c>{}</c> is just a node with nothing set).</summary>
    public bool? BooleanValue { get; set; }

    public JsonTypes Types { get; set; }

    public JsonElement[]? Enum { get; set; }

    /// <summary>The UTF-8 bytes of each enum value when all are strings: compared without allocating.</summary>
    public byte[][]? EnumStrings { get; set; }

    public JsonElement? Const { get; set; }

    public PropertyTable? Properties { get; set; }

    public string[] Required { get; set; } = [];

    public byte[][] RequiredUtf8 { get; set; } = [];

    /// <summary>The schema of additional properties; null when the keyword is absent (anything allowed).</summary>
    public SchemaNode? AdditionalProperties { get; set; }

    public PatternSchema[] PatternProperties { get; set; } = [];

    public SchemaNode? PropertyNames { get; set; }

    public int? MinProperties { get; set; }

    public int? MaxProperties { get; set; }

    public DependentRequired[] DependentRequired { get; set; } = [];

    public DependentSchema[] DependentSchemas { get; set; } = [];

    /// <summary>One schema for every item (<c>items</c> as an object, without a tuple).</summary>
    public SchemaNode? Items { get; set; }

    /// <summary>Positional item schemas (<c>items</c> as an array, or <c>prefixItems</c>).</summary>
    public SchemaNode[]? TupleItems { get; set; }

    /// <summary>The schema of items after the tuple (<c>additionalItems</c>, or 2020-12 <c>items</c> next to <c>prefixItems</c>).</summary>
    public SchemaNode? AdditionalItems { get; set; }

    public SchemaNode? Contains { get; set; }

    public int? MinItems { get; set; }

    public int? MaxItems { get; set; }

    public bool UniqueItems { get; set; }

    public int? MinLength { get; set; }

    public int? MaxLength { get; set; }

    public Regex? Pattern { get; set; }

    public string? Format { get; set; }

    public StringFormats.Check? FormatCheck { get; set; }

    public double? Minimum { get; set; }

    public double? Maximum { get; set; }

    public double? ExclusiveMinimum { get; set; }

    public double? ExclusiveMaximum { get; set; }

    public decimal? MultipleOf { get; set; }

    public SchemaNode[]? AllOf { get; set; }

    public SchemaNode[]? AnyOf { get; set; }

    public SchemaNode[]? OneOf { get; set; }

    public SchemaNode? Not { get; set; }

    public SchemaNode? If { get; set; }

    public SchemaNode? Then { get; set; }

    public SchemaNode? Else { get; set; }

    /// <summary>The schema a <c>$ref</c> points at, and the reference as written.</summary>
    public SchemaNode? Ref { get; set; }

    public string? RefText { get; set; }

    /// <summary>True in drafts 4-7, where <c>$ref</c> replaces its sibling keywords.</summary>
    public bool RefOverridesSiblings { get; set; }

    public string? Id { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }

    public JsonElement? Default { get; set; }

    public bool IsTrue => BooleanValue == true;

    public bool IsFalse => BooleanValue == false;
}

/// <summary>A <c>patternProperties</c> entry.</summary>
internal sealed record PatternSchema(string PatternText, Regex Pattern, SchemaNode Schema);

/// <summary>A <c>dependentRequired</c> (or array-valued <c>dependencies</c>) entry.</summary>
internal sealed record DependentRequired(string Property, byte[] PropertyUtf8, string[] Required, byte[][] RequiredUtf8);

/// <summary>A <c>dependentSchemas</c> (or schema-valued <c>dependencies</c>) entry.</summary>
internal sealed record DependentSchema(string Property, byte[] PropertyUtf8, SchemaNode Schema);
