using System.Text.Json;
using System.Text.Unicode;

namespace EventPlatform.Core.Events;

/// <summary>
/// Checks on JSON tokens that <see cref="Utf8JsonReader"/> lets through but that would later fail
/// or be misread: text that is not Unicode, numbers no 64-bit float can hold.
/// </summary>
/// <remarks>
/// The reader accepts invalid UTF-8 inside strings and escapes of unpaired surrogates
/// (<c>"\ud800"</c>); <c>GetString</c> then throws <see cref="InvalidOperationException"/>, and
/// other consumers of the stored JSON would fail or substitute characters. It reads <c>1e999</c>
/// as infinity, which JSON cannot write back. Both are refused where the event is read.
/// </remarks>
internal static class JsonText
{
    public const string NotUnicode = "is not valid Unicode text (invalid UTF-8, or an unpaired surrogate escape such as \\ud800)";

    public const string NotFinite = "is a number too large for a 64-bit floating-point value (it would be infinite)";

    /// <summary>Whether the current string or property name is valid Unicode text.</summary>
    /// <remarks>Needs a reader over one span (no <see cref="System.Buffers.ReadOnlySequence{T}"/>).</remarks>
    public static bool IsUnicode(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        return Utf8.IsValid(raw) && (!reader.ValueIsEscaped || EscapesArePaired(raw));
    }

    /// <summary>Whether the current number is finite as a double.</summary>
    public static bool IsFinite(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;

        // Without an exponent a number needs more than 308 digits to overflow: the common case costs a scan.
        if (raw.Length <= 308 && raw.IndexOfAny((byte)'e', (byte)'E') < 0)
        {
            return true;
        }

        return reader.TryGetDouble(out var value) && double.IsFinite(value);
    }

    /// <summary>
    /// The reason the current token makes a value unacceptable, or null. Strings, property names and
    /// numbers are checked; other tokens are always fine.
    /// </summary>
    public static string? Check(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String or JsonTokenType.PropertyName when !IsUnicode(ref reader) => NotUnicode,
        JsonTokenType.Number when !IsFinite(ref reader) => NotFinite,
        _ => null,
    };

    /// <summary>
    /// Checks the current value and everything inside it, leaving the reader on its last token (as
    /// <see cref="Utf8JsonReader.Skip"/> does). Iterative: depth is bounded by the reader's MaxDepth.
    /// Returns the first problem and the byte offset of its token, or null.
    /// </summary>
    public static (string Reason, long Offset)? CheckValue(ref Utf8JsonReader reader)
    {
        (string, long)? problem = Check(ref reader) is { } own ? (own, reader.TokenStartIndex) : null;
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return problem;
        }

        // Every token inside the container is deeper than its start; only its end comes back to this depth.
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (problem is null && Check(ref reader) is { } reason)
            {
                problem = (reason, reader.TokenStartIndex);
            }
        }

        return problem;
    }

    /// <summary>
    /// Escapes of UTF-16 surrogates must come in high-low pairs. The reader has already checked the
    /// escape syntax (four hex digits after <c>\u</c>), so only the pairing is left to check.
    /// </summary>
    private static bool EscapesArePaired(ReadOnlySpan<byte> raw)
    {
        var i = raw.IndexOf((byte)'\\');
        while (i >= 0)
        {
            if (raw[i + 1] != (byte)'u')
            {
                i = Next(raw, i + 2);
                continue;
            }

            var unit = Hex4(raw.Slice(i + 2, 4));
            if (char.IsLowSurrogate(unit))
            {
                return false;
            }

            if (!char.IsHighSurrogate(unit))
            {
                i = Next(raw, i + 6);
                continue;
            }

            if (raw.Length < i + 12 || raw[i + 6] != (byte)'\\' || raw[i + 7] != (byte)'u' || !char.IsLowSurrogate(Hex4(raw.Slice(i + 8, 4))))
            {
                return false;
            }

            i = Next(raw, i + 12);
        }

        return true;
    }

    private static int Next(ReadOnlySpan<byte> raw, int from)
    {
        var next = raw[from..].IndexOf((byte)'\\');
        return next < 0 ? -1 : from + next;
    }

    private static char Hex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var b in hex)
        {
            value = (value << 4) | (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        }

        return (char)value;
    }
}
