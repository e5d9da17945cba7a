using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using EventPlatform.Core.Events;

namespace EventPlatform.Processor.Enrichment;

/// <summary>
/// Finds an event's numeric reading by the paths <see cref="ReadingOptions"/> gives for its type.
/// A value that is missing, not a JSON number, or not finite is no value.
/// </summary>
/// <remarks>
/// The paths are compiled once (to UTF-8 property names); each lookup is one forward pass of a
/// <see cref="Utf8JsonReader"/> over the payload, skipping what is not on the path, with the
/// reader's depth cap. Immutable and thread-safe.
/// </remarks>
public sealed class ReadingExtractor
{
    private const int MaxDepth = 64;

    private readonly ReadingOptions _options;
    private readonly FrozenDictionary<string, byte[][][]> _configured;
    private readonly FrozenDictionary<string, byte[][][]> _defaults;

    /// <summary>Compiles the paths of <paramref name="options"/>, which must be valid (see <see cref="ReadingOptionsValidator"/>).</summary>
    public ReadingExtractor(ReadingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new ReadingOptionsValidator().Validate(null, options);
        if (failures.Failed)
        {
            throw new ArgumentException(failures.FailureMessage, nameof(options));
        }

        _options = options;
        _configured = options.Readings.ToFrozenDictionary(p => p.Key, p => Compile(p.Value ?? []), StringComparer.Ordinal);
        _defaults = ReadingOptions.Defaults.ToFrozenDictionary(p => p.Key, p => Compile(p.Value), StringComparer.Ordinal);
    }

    /// <summary>The options the paths came from.</summary>
    public ReadingOptions Options => _options;

    /// <summary>The reading of <paramref name="e"/>: the first of its type's paths holding a finite number, else null.</summary>
    public double? ReadingOf(IngestEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!_configured.TryGetValue(e.EventType, out var paths) && !_defaults.TryGetValue(e.EventType, out paths))
        {
            return null;
        }

        foreach (var path in paths)
        {
            if (Find(e.Payload.Span, path) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The names after <c>payload</c>, as UTF-8.</summary>
    private static byte[][][] Compile(IEnumerable<string> paths) =>
        [.. paths.Select(path => path.Split('.').Skip(1).Select(Encoding.UTF8.GetBytes).ToArray())];

    private static double? Find(ReadOnlySpan<byte> payload, byte[][] names)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            var level = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var onPath = reader.ValueTextEquals(names[level]);
                reader.Read();
                if (!onPath)
                {
                    reader.Skip();
                    continue;
                }

                if (level == names.Length - 1)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) && double.IsFinite(value) ? value : null;
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                level++;
            }

            // The object on the path ended without the next name.
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
