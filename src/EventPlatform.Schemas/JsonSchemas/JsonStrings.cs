using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>Reads JSON string instances without allocating when they contain no escapes.</summary>
internal static class JsonStrings
{
    private const int StackChars = 256;

    /// <summary>The number of Unicode code points (what JSON Schema's minLength/maxLength count).</summary>
    public static int CodePointCount(JsonElement value)
    {
        var raw = RawContent(value);
        if (raw.IndexOf((byte)'\\') < 0)
        {
            var count = 0;
            foreach (var b in raw)
            {
                // Every code point has exactly one byte that is not a continuation byte.
                if ((b & 0xC0) != 0x80)
                {
                    count++;
                }
            }

            return count;
        }

        var text = value.GetString()!;
        var points = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsHighSurrogate(text[i]) || i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                points++;
            }
            else
            {
                points++;
                i++;
            }
        }

        return points;
    }

    /// <summary>Whether the string value matches the regular expression; its time is charged to the budget.</summary>
    /// <exception cref="ValidationBudgetExceededException">The match timed out, or regular expressions used up their time.</exception>
    public static bool Matches(JsonElement value, Regex regex, ref ValidationBudget budget)
    {
        Span<char> stack = stackalloc char[StackChars];
        char[]? rented = null;
        try
        {
            var started = Stopwatch.GetTimestamp();
            var matches = regex.IsMatch(Decode(value, stack, ref rented));
            budget.ChargeRegex(started);
            return matches;
        }
        catch (RegexMatchTimeoutException)
        {
            throw RegexTimedOut(regex);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether the string value passes a format check.</summary>
    public static bool Passes(JsonElement value, StringFormats.Check check)
    {
        Span<char> stack = stackalloc char[StackChars];
        char[]? rented = null;
        try
        {
            return check(Decode(value, stack, ref rented));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether an instance's property name matches the regular expression; its time is charged to the budget.</summary>
    /// <exception cref="ValidationBudgetExceededException">The match timed out, or regular expressions used up their time.</exception>
    public static bool NameMatches(JsonProperty property, Regex regex, ref ValidationBudget budget)
    {
        Span<char> stack = stackalloc char[StackChars];
        char[]? rented = null;
        try
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            var name = raw.IndexOf((byte)'\\') >= 0 ? property.Name.AsSpan() : Decode(raw, stack, ref rented);
            var started = Stopwatch.GetTimestamp();
            var matches = regex.IsMatch(name);
            budget.ChargeRegex(started);
            return matches;
        }
        catch (RegexMatchTimeoutException)
        {
            throw RegexTimedOut(regex);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    // A timeout is not "no match": the answer is unknown, so the validation gives up as over budget.
    private static ValidationBudgetExceededException RegexTimedOut(Regex regex) =>
        new($"the pattern {regex} took longer than {regex.MatchTimeout.TotalMilliseconds} ms");

    private static ReadOnlySpan<char> Decode(JsonElement value, Span<char> stack, ref char[]? rented)
    {
        var raw = RawContent(value);
        return raw.IndexOf((byte)'\\') >= 0 ? value.GetString().AsSpan() : Decode(raw, stack, ref rented);
    }

    private static ReadOnlySpan<char> Decode(ReadOnlySpan<byte> raw, Span<char> stack, ref char[]? rented)
    {
        var buffer = stack;
        if (raw.Length > stack.Length)
        {
            rented = ArrayPool<char>.Shared.Rent(raw.Length);
            buffer = rented;
        }

        var written = Encoding.UTF8.GetChars(raw, buffer);
        return buffer[..written];
    }

    // The raw token of a string includes its quotes.
    private static ReadOnlySpan<byte> RawContent(JsonElement value) => JsonMarshal.GetRawUtf8Value(value)[1..^1];
}
