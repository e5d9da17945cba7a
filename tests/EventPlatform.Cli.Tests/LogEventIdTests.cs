using System.Text.RegularExpressions;

using EventPlatform.Testing;

namespace EventPlatform.Cli.Tests;

/// <summary>
/// Every structured log message of the services has its own event id (JSON logs carry it as
/// <c>log_event_id</c>; operators filter and alert on it), so two messages must never share one.
/// </summary>
public partial class LogEventIdTests
{
    [GeneratedRegex(@"\[LoggerMessage\(EventId = (\d+)")]
    private static partial Regex EventId();

    [Fact]
    public void No_two_log_messages_share_an_event_id()
    {
        var source = Path.Combine(Repository.Root, "src");
        var ids = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => EventId().Matches(File.ReadAllText(f)).Select(m => (Id: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), File: Path.GetRelativePath(source, f))))
            .ToList();

        Assert.True(ids.Count > 100, $"only {ids.Count} log messages found under {source}");
        var shared = ids.GroupBy(i => i.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(i => i.File))}").ToList();
        Assert.True(shared.Count == 0, "event ids used twice: " + string.Join("; ", shared));
    }
}
