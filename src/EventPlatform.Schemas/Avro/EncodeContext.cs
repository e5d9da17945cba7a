using System.Runtime.CompilerServices;
using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EventPlatform.Schemas.Avro;

/// <summary>
/// The state of one encoding: where in the value we are (kept cheaply, turned into text only
/// for an error), the problems found, and scratch buffers. One per thread is reused.
/// </summary>
internal sealed class EncodeContext
{
    [ThreadStatic]
    private static EncodeContext? t_cached;

    private static readonly JsonWriterOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private Segment[] _path = new Segment[16];
    private List<string>? _missing;
    private List<AvroInvalidField>? _invalid;
    private ArrayBufferWriter<byte>? _scratch;
    private Utf8JsonWriter? _jsonWriter;

    public AvroJsonEncoderOptions Options { get; private set; } = AvroJsonEncoderOptions.Default;

    /// <summary>Encoding a schema default: unions take their first branch, bytes are code point strings.</summary>
    public bool DefaultMode { get; private set; }

    public int Depth { get; private set; }

    public bool HasErrors => _missing is not null || _invalid is not null;

    public static EncodeContext Rent(AvroJsonEncoderOptions options, bool defaultMode)
    {
        var context = t_cached ?? new EncodeContext();
        t_cached = null;
        context.Options = options;
        context.DefaultMode = defaultMode;
        context.Depth = 0;
        context._missing = null;
        context._invalid = null;
        return context;
    }

    public static void Return(EncodeContext context) => t_cached = context;

    public AvroEncodeResult Result() => HasErrors
        ? new AvroEncodeResult((IReadOnlyList<string>?)_missing ?? [], (IReadOnlyList<AvroInvalidField>?)_invalid ?? [])
        : AvroEncodeResult.Valid;

    /// <summary>Enters a record field (or a map entry: <paramref name="container"/> is the map, <paramref name="index"/> the entry).</summary>
    public bool Enter(string? name, int index, JsonElement container = default)
    {
        if (Depth >= Options.MaxDepth)
        {
            Invalid($"nested more than {Options.MaxDepth} levels deep");
            return false;
        }

        // The backstop on small stacks, below the configured depth.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            Invalid($"nested too deep for this server's stack ({Depth} levels)");
            return false;
        }

        if (Depth == _path.Length)
        {
            Array.Resize(ref _path, _path.Length * 2);
        }

        _path[Depth++] = new Segment(name, index, container);
        return true;
    }

    public void Leave() => Depth--;

    public void Missing(string fieldName) => (_missing ??= []).Add(Path(fieldName));

    public void Invalid(string reason) => (_invalid ??= []).Add(new AvroInvalidField(Path(null), reason));

    /// <summary>The value as compact JSON text in a reused buffer (valid until the next call).</summary>
    public ReadOnlySpan<byte> CompactJsonText(JsonElement value)
    {
        _scratch ??= new ArrayBufferWriter<byte>(256);
        _scratch.ResetWrittenCount();
        if (_jsonWriter is null)
        {
            _jsonWriter = new Utf8JsonWriter(_scratch, CompactJson);
        }
        else
        {
            _jsonWriter.Reset(_scratch);
        }

        value.WriteTo(_jsonWriter);
        _jsonWriter.Flush();
        return _scratch.WrittenSpan;
    }

    private string Path(string? last)
    {
        var text = new StringBuilder();
        for (var i = 0; i < Depth; i++)
        {
            _path[i].AppendTo(text);
        }

        if (last is not null)
        {
            new Segment(last, -1, default).AppendTo(text);
        }

        return text.Length == 0 ? "$" : text.ToString();
    }

    // A field name, an array index, or a map entry (its key is looked up only when a path is printed).
    private readonly record struct Segment(string? Name, int Index, JsonElement Map)
    {
        public void AppendTo(StringBuilder text)
        {
            if (Name is null && Map.ValueKind != JsonValueKind.Object)
            {
                text.Append('[').Append(Index).Append(']');
                return;
            }

            if (text.Length > 0)
            {
                text.Append('.');
            }

            text.Append(Name ?? Map.EnumerateObject().ElementAt(Index).Name);
        }
    }
}
