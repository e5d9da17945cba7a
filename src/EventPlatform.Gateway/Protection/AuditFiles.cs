using System.Globalization;
using System.Text.RegularExpressions;

namespace EventPlatform.Gateway.Protection;

/// <summary>
/// The audit files of one directory and the bounds on them: a file a day
/// (<c>gateway-YYYY-MM-DD.jsonl</c>) cut into segments (<c>gateway-YYYY-MM-DD.N.jsonl</c>) of
/// about <see cref="MaxFileBytes"/>, and a retention that deletes the oldest files: those more
/// than <see cref="RetainDays"/> days old, then the oldest until they total at most
/// <see cref="MaxTotalBytes"/>. Without it one client sending requests, accepted or refused,
/// fills the disk the broker's checkpoints and the warehouse live on.
/// </summary>
internal sealed partial class AuditFiles
{
    public AuditFiles(string directory, long maxFileBytes, long maxTotalBytes, int retainDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFileBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotalBytes, maxFileBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(retainDays, 1);
        Directory = directory;
        MaxFileBytes = maxFileBytes;
        MaxTotalBytes = maxTotalBytes;
        RetainDays = retainDays;
    }

    public string Directory { get; }

    public long MaxFileBytes { get; }

    public long MaxTotalBytes { get; }

    public int RetainDays { get; }

    /// <summary>The name of a day's segment: the first has no number.</summary>
    public static string NameOf(DateOnly day, int segment) =>
        segment == 0
            ? $"gateway-{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.jsonl"
            : $"gateway-{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.{segment.ToString(CultureInfo.InvariantCulture)}.jsonl";

    /// <summary>Reads a file name written by <see cref="NameOf"/>; anything else is not an audit file and is left alone.</summary>
    public static bool TryParse(string fileName, out DateOnly day, out int segment)
    {
        day = default;
        segment = 0;
        var match = FileName().Match(fileName);
        return match.Success
            && DateOnly.TryParseExact(match.Groups[1].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day)
            && (!match.Groups[2].Success || int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out segment));
    }

    /// <summary>The audit files now, oldest first (by day, then segment).</summary>
    public List<(string Path, DateOnly Day, int Segment, long Bytes)> List()
    {
        var files = new List<(string Path, DateOnly Day, int Segment, long Bytes)>();
        if (!System.IO.Directory.Exists(Directory))
        {
            return files;
        }

        foreach (var info in new DirectoryInfo(Directory).EnumerateFiles("gateway-*.jsonl"))
        {
            if (TryParse(info.Name, out var day, out var segment))
            {
                files.Add((info.FullName, day, segment, info.Length));
            }
        }

        files.Sort((a, b) => a.Day != b.Day ? a.Day.CompareTo(b.Day) : a.Segment.CompareTo(b.Segment));
        return files;
    }

    /// <summary>
    /// The segment of <paramref name="day"/> to append to: its last one while it has room, else the
    /// next number. Appending to what a previous run left keeps one day's entries in order.
    /// </summary>
    public (string Path, int Segment) Choose(DateOnly day)
    {
        var last = List().Where(f => f.Day == day).Select(f => (f.Segment, f.Bytes)).DefaultIfEmpty((Segment: -1, Bytes: 0L)).Last();
        return last.Segment < 0 ? (Path.Combine(Directory, NameOf(day, 0)), 0)
            : last.Bytes < MaxFileBytes ? (Path.Combine(Directory, NameOf(day, last.Segment)), last.Segment)
            : (Path.Combine(Directory, NameOf(day, last.Segment + 1)), last.Segment + 1);
    }

    /// <summary>
    /// Deletes the files of days more than <see cref="RetainDays"/> before <paramref name="today"/>,
    /// then the oldest until the rest total at most <see cref="MaxTotalBytes"/>; never
    /// <paramref name="current"/> (the file being written). Returns what went, by cause.
    /// </summary>
    public (int ByAge, int BySize, long Bytes) Enforce(DateOnly today, string? current)
    {
        var files = List();
        var oldestKept = today.AddDays(-RetainDays + 1);
        int byAge = 0, bySize = 0;
        long deleted = 0;
        var total = files.Sum(f => f.Bytes);
        foreach (var file in files)
        {
            if (string.Equals(file.Path, current, StringComparison.Ordinal))
            {
                continue;
            }

            var old = file.Day < oldestKept;
            if (!old && total <= MaxTotalBytes)
            {
                break; // oldest first: every later file is newer and fits
            }

            if (!TryDelete(file.Path))
            {
                continue;
            }

            total -= file.Bytes;
            deleted += file.Bytes;
            if (old)
            {
                byAge++;
            }
            else
            {
                bySize++;
            }
        }

        return (byAge, bySize, deleted);
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false; // open elsewhere or gone already: the next pass tries again
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^gateway-(\d{4}-\d{2}-\d{2})(?:\.([0-9]{1,9}))?\.jsonl$", RegexOptions.CultureInvariant)]
    private static partial Regex FileName();
}
