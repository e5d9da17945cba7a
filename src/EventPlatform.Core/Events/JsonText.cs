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

    public const string DuplicateName = "has an object with a property given more than once";

    [ThreadStatic]
    private static PropertyNames? t_names;

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

        // Without an exponent a number needs more than 308 digits to overflow: the common case is one
        // short loop ('E' | 0x20 is 'e'; no other byte of a JSON number becomes 'e').
        if (raw.Length <= 308)
        {
            var exponent = false;
            foreach (var b in raw)
            {
                exponent |= (b | 0x20) == 'e';
            }

            if (!exponent)
            {
                return true;
            }
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
    /// <see cref="Utf8JsonReader.Skip"/> does): text, numbers, and that no object names a property
    /// twice (parsers disagree on which copy wins, and some refuse the record outright, so one
    /// stored event could read differently, or not at all, downstream). Iterative: depth is bounded
    /// by the reader's MaxDepth. <paramref name="source"/> is the span the reader reads. Returns
    /// the first problem and the byte offset of its token, or null.
    /// </summary>
    /// <remarks>
    /// Text is checked once over the whole value after the walk (two vectorized scans) rather than
    /// token by token: this runs for every payload. Only a value that fails is walked again to say where.
    /// </remarks>
    public static (string Reason, long Offset)? CheckValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return Check(ref reader) is { } own ? (own, reader.TokenStartIndex) : null;
        }

        var start = (int)reader.TokenStartIndex;
        var names = t_names ??= new PropertyNames();
        names.Reset();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            names.Open();
        }

        (string, long)? problem = null;

        // Every token inside the container is deeper than its start; only its end comes back to this depth.
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (problem is not null)
            {
                continue;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    names.Open();
                    break;
                case JsonTokenType.EndObject:
                    names.Close();
                    break;
                case JsonTokenType.PropertyName:
                    // An escaped name is unescaped to be compared, which needs it to be text first.
                    if (reader.ValueIsEscaped && !IsUnicode(ref reader))
                    {
                        problem = (NotUnicode, reader.TokenStartIndex);
                    }
                    else if (!names.Add(ref reader, source))
                    {
                        // The duplicate is text only if the whole value is: checked below before this is reported.
                        problem = (DuplicateName, reader.TokenStartIndex);
                    }

                    break;
                case JsonTokenType.Number when !IsFinite(ref reader):
                    problem = (NotFinite, reader.TokenStartIndex);
                    break;
            }
        }

        var value = source[start..(int)reader.BytesConsumed];
        if (!Utf8.IsValid(value) || (value.Contains((byte)'\\') && !EscapesArePaired(value)))
        {
            return (NotUnicode, start + FirstNotUnicode(value));
        }

        if (problem is { Item1: DuplicateName } duplicate)
        {
            var at = new Utf8JsonReader(source[(int)duplicate.Item2..]);
            at.Read();
            return ($"{DuplicateName} ('{at.GetString()}')", duplicate.Item2);
        }

        return problem;
    }

    /// <summary>The offset in <paramref name="value"/> of the first string or name that is not text (error path only).</summary>
    private static long FirstNotUnicode(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value);
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsUnicode(ref reader))
            {
                return reader.TokenStartIndex;
            }
        }

        return 0;
    }

    /// <summary>
    /// The property names of the objects open in one walk, to find a name given twice. Small
    /// objects are searched linearly; past <see cref="HashFrom"/> names an object also keeps a set
    /// of their hashes, so a hostile object of many keys costs linear time. Reused per thread.
    /// </summary>
    private sealed class PropertyNames
    {
        private const int HashFrom = 16;

        // Names as (offset, length) into the source, or into _unescaped when the name was escaped.
        private readonly List<(int Start, int Length, bool Unescaped)> _names = [];
        private readonly List<(int First, HashSet<int>? Hashes)> _objects = [];
        private byte[] _unescaped = new byte[256];
        private int _unescapedLength;

        public void Reset()
        {
            _names.Clear();
            _objects.Clear();
            _unescapedLength = 0;
        }

        public void Open() => _objects.Add((_names.Count, null));

        public void Close()
        {
            var first = _objects[^1].First;
            _names.RemoveRange(first, _names.Count - first);
            _objects.RemoveAt(_objects.Count - 1);
        }

        /// <summary>Adds the current property name to its object; false when the object already has it.</summary>
        public bool Add(ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
        {
            (int Start, int Length, bool Unescaped) entry;
            if (reader.ValueIsEscaped)
            {
                // Compared unescaped: "a" and "\u0061" are the same name. Checked as Unicode already, so this cannot throw.
                if (_unescaped.Length - _unescapedLength < reader.ValueSpan.Length)
                {
                    Array.Resize(ref _unescaped, Math.Max(_unescaped.Length * 2, _unescapedLength + reader.ValueSpan.Length));
                }

                var length = reader.CopyString(_unescaped.AsSpan(_unescapedLength));
                entry = (_unescapedLength, length, true);
                _unescapedLength += length;
            }
            else
            {
                // The token starts at its opening quote.
                entry = ((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, false);
            }

            var name = NameOf(entry, source);
            var (first, hashes) = _objects[^1];
            if (hashes is null && _names.Count - first >= HashFrom)
            {
                hashes = [];
                for (var i = first; i < _names.Count; i++)
                {
                    hashes.Add(Hash(NameOf(_names[i], source)));
                }

                _objects[^1] = (first, hashes);
            }

            // A new hash is a new name; otherwise (or for a small object) look.
            if (hashes is null || !hashes.Add(Hash(name)))
            {
                for (var i = first; i < _names.Count; i++)
                {
                    if (NameOf(_names[i], source).SequenceEqual(name))
                    {
                        return false;
                    }
                }
            }

            _names.Add(entry);
            return true;
        }

        private ReadOnlySpan<byte> NameOf((int Start, int Length, bool Unescaped) entry, ReadOnlySpan<byte> source) =>
            entry.Unescaped ? _unescaped.AsSpan(entry.Start, entry.Length) : source.Slice(entry.Start, entry.Length);

        private static int Hash(ReadOnlySpan<byte> name)
        {
            var hash = default(HashCode);
            hash.AddBytes(name);
            return hash.ToHashCode();
        }
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
