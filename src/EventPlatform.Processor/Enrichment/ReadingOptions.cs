using EventPlatform.Core.Events;
using EventPlatform.Core.Routing;
using Microsoft.Extensions.Options;

namespace EventPlatform.Processor.Enrichment;

/// <summary>
/// Where each event type keeps the numeric reading the aggregations sum, average, and take the
/// minimum and maximum of: <c>Processor:Readings:{eventType}</c> = a list of JSON paths into the
/// event, tried in order, the first holding a finite number winning.
/// </summary>
/// <remarks>
/// A path is <c>payload</c> followed by property names separated by dots (<c>payload.temperature</c>,
/// <c>payload.reading.value</c>); array elements are not addressed. Types not configured use
/// <see cref="Defaults"/> (the seed's: <c>payload.temperature</c> then <c>payload.value</c> for
/// sensors, <c>payload.amount</c> for transactions, none for clicks, which are counted only); a type
/// configured with an empty list has no reading. Checked at start by <see cref="ReadingOptionsValidator"/>.
/// </remarks>
public sealed class ReadingOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Processor";

    /// <summary>The most property names a path may hold after <c>payload</c>.</summary>
    public const int MaxPathDepth = 16;

    /// <summary>The longest path accepted, in characters.</summary>
    public const int MaxPathLength = 256;

    /// <summary>The seed's readings, used for every type <see cref="Readings"/> does not name.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Defaults { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [EventTypes.IotSensor] = ["payload.temperature", "payload.value"],
        [EventTypes.Transaction] = ["payload.amount"],
        [EventTypes.Clickstream] = [],
    };

    /// <summary>Paths per event type, overriding <see cref="Defaults"/> for the types named.</summary>
    public Dictionary<string, string[]> Readings { get; } = new(StringComparer.Ordinal);

    /// <summary>The paths in effect for <paramref name="eventType"/>: configured, else the default, else none.</summary>
    public IReadOnlyList<string> PathsFor(string eventType) =>
        Readings.TryGetValue(eventType, out var configured) ? configured
        : Defaults.TryGetValue(eventType, out var seed) ? seed
        : [];

    /// <summary>Why <paramref name="path"/> is not a usable reading path, or null when it is.</summary>
    public static string? CheckPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "is empty";
        }

        if (path.Length > MaxPathLength)
        {
            return $"is longer than {MaxPathLength} characters";
        }

        var segments = path.Split('.');
        if (segments[0] != "payload" || segments.Length < 2)
        {
            return "must start with 'payload.' and name a property of the payload (for example payload.temperature)";
        }

        if (segments.Length - 1 > MaxPathDepth)
        {
            return $"names more than {MaxPathDepth} nested properties";
        }

        return segments.Any(string.IsNullOrEmpty) ? "has an empty property name (two dots, or a dot at the end)" : null;
    }
}

/// <summary>Checks <see cref="ReadingOptions"/> at start, naming every bad entry.</summary>
public sealed class ReadingOptionsValidator : IValidateOptions<ReadingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ReadingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (eventType, paths) in options.Readings)
        {
            var key = $"{ReadingOptions.SectionName}:Readings:{eventType}";
            if (!TopicRouter.IsLegalTopicName(eventType) || eventType.Length > EventLimits.MaxEventTypeLength)
            {
                failures.Add($"{key}: '{eventType}' is not an event type name.");
            }

            for (var i = 0; i < (paths?.Length ?? 0); i++)
            {
                if (ReadingOptions.CheckPath(paths![i]) is { } reason)
                {
                    failures.Add($"{key}:{i}: the path '{paths[i]}' {reason}.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
