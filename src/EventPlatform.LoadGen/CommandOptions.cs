using System.CommandLine;
using System.CommandLine.Parsing;

namespace EventPlatform.LoadGen;

/// <summary>Options shared by the load commands.</summary>
internal static class CommandOptions
{
    /// <summary>A duration option that reads 30s, 2m, 500ms or plain seconds.</summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
    };

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (DurationParser.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration: use e.g. 30s, 2m, 500ms or a number of seconds.");
        return default;
    }
}
