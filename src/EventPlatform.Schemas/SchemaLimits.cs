using System.Runtime.CompilerServices;

namespace EventPlatform.Schemas;

/// <summary>
/// The bounds every walk over a client's schema keeps. A stack overflow ends a .NET process and no
/// handler catches it, so a schema nested deeper than these (or too costly to compare) is refused as
/// invalid (Confluent's 42201) instead of being walked.
/// </summary>
public static class SchemaLimits
{
    /// <summary>
    /// The deepest nesting a schema may have: JSON Schema <c>$ref</c>/<c>allOf</c>/<c>anyOf</c>/<c>oneOf</c>/<c>not</c>/<c>if</c>
    /// chains applied to one value, Protobuf messages nested in messages (and braces in .proto text),
    /// Avro types nested in types across references, and the comparison of two schemas side by side.
    /// Real schemas stay far below it.
    /// </summary>
    public const int MaxNestingDepth = 128;

    /// <summary>
    /// The most comparison steps one compatibility check of two schemas may take: a schema whose
    /// combinations fan out (anyOf in anyOf, 40 levels) would otherwise take exponential time.
    /// </summary>
    public const int MaxComparisonSteps = 200_000;

    /// <summary>The refusal of a schema nested deeper than <see cref="MaxNestingDepth"/>.</summary>
    /// <param name="where">What nests, and where (for the message).</param>
    public static InvalidSchemaException TooDeep(string where) =>
        new($"Invalid schema: schema nesting exceeds {MaxNestingDepth} levels ({where})");

    /// <summary>The refusal of a comparison that took more than <see cref="MaxComparisonSteps"/>.</summary>
    public static InvalidSchemaException TooComplexToCompare() =>
        new($"Invalid schema: the schemas are too complex to compare (more than {MaxComparisonSteps} comparison steps)");

    /// <summary>
    /// A backstop below the explicit depth limits: throws <see cref="InvalidSchemaException"/> when the
    /// thread's stack is nearly used up, before it overflows.
    /// </summary>
    /// <param name="where">What was being walked.</param>
    public static void EnsureStack(string where)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new InvalidSchemaException($"Invalid schema: schema nesting is too deep for this server ({where})");
        }
    }
}
