using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// Compiled regular expressions shared by every parse of the same pattern: the registry re-parses
/// stored schemas for compatibility checks, and compiling a pattern costs far more than matching.
/// </summary>
internal static class PatternCache
{
    // Bounded so that clients registering endless distinct patterns cannot grow it without limit.
    private const int Capacity = 2048;

    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public static Regex GetOrCreate(string pattern, TimeSpan matchTimeout)
    {
        if (Patterns.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        var regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, matchTimeout);
        if (Patterns.Count < Capacity)
        {
            Patterns.TryAdd(pattern, regex);
        }

        return regex;
    }
}
