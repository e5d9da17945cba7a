using System.Globalization;
using System.Text;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Runtime.Checkpoints;

/// <summary>
/// Checkpoints as files in a directory (by default <c>&lt;data dir&gt;/checkpoints/&lt;job&gt;</c>):
/// <c>checkpoint</c> is the newest, <c>checkpoint.previous</c> the one before.
/// </summary>
/// <remarks>
/// <para>A save writes a temporary file, flushes it to disk (fsync), then renames: the current file
/// becomes <c>checkpoint.previous</c> and the temporary file becomes <c>checkpoint</c>. A crash at
/// any point leaves either a leftover temporary file (removed on the next load) and the old
/// checkpoint, or the new one. A checkpoint that fails its CRC is passed over for the previous one.</para>
/// <para>Not thread-safe; one job instance owns a directory. With scale-out each partition has a
/// directory of its own under <c>partitions/</c> (<see cref="Partition"/>), owned by whichever
/// instance the consumer group gives the partition to; instances on one machine can share the
/// job's directory that way. Instances on several machines need a store they can all reach.</para>
/// </remarks>
public sealed class FileCheckpointStore : IPartitionedCheckpointStore
{
    private const string CurrentName = "checkpoint";
    private const string PreviousName = "checkpoint.previous";
    private const string TempPrefix = "checkpoint.tmp-";

    /// <summary>Set-aside checkpoints kept for inspection; older ones are deleted.</summary>
    public const int KeptSetAside = 5;

    private readonly TimeProvider _clock;

    /// <summary>Uses <paramref name="directory"/>, creating it when missing.</summary>
    public FileCheckpointStore(string directory, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The store for <paramref name="jobName"/> under a data directory.</summary>
    public static FileCheckpointStore ForJob(string dataDirectory, string jobName, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobName);
        return new FileCheckpointStore(Path.Combine(dataDirectory, "checkpoints", SafeName(jobName)), clock);
    }

    /// <summary>The store of one partition's checkpoints: the directory <c>partitions/&lt;name&gt;</c> under this one.</summary>
    public ICheckpointStore Partition(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new FileCheckpointStore(Path.Combine(Directory, "partitions", SafeName(name)), _clock);
    }

    private static string SafeName(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        return safe.ToString();
    }

    /// <summary>The directory's full path.</summary>
    public string Directory { get; }

    /// <summary>Why the newest file was passed over on the last load, if it was.</summary>
    public string? LastLoadProblem { get; private set; }

    /// <inheritdoc />
    public Checkpoint? Load()
    {
        LastLoadProblem = null;
        foreach (var leftover in System.IO.Directory.EnumerateFiles(Directory, TempPrefix + "*"))
        {
            File.Delete(leftover);
        }
        foreach (var name in new[] { CurrentName, PreviousName })
        {
            var path = Path.Combine(Directory, name);
            if (!File.Exists(path))
            {
                continue;
            }
            try
            {
                return Checkpoint.Deserialize(File.ReadAllBytes(path));
            }
            catch (SnapshotFormatException e)
            {
                LastLoadProblem = $"{name}: {e.Message}";
            }
        }
        return null;
    }

    /// <inheritdoc />
    public void Save(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var temp = Path.Combine(Directory, TempPrefix + Guid.NewGuid().ToString("N"));
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            file.Write(checkpoint.Serialize());
            file.Flush(flushToDisk: true);
        }
        var current = Path.Combine(Directory, CurrentName);
        if (File.Exists(current))
        {
            File.Move(current, Path.Combine(Directory, PreviousName), overwrite: true);
        }
        File.Move(temp, current);
    }

    /// <inheritdoc />
    public void SetAside(string reason)
    {
        var aside = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "set-aside",
            _clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture))).FullName;
        foreach (var name in new[] { CurrentName, PreviousName })
        {
            var path = Path.Combine(Directory, name);
            if (File.Exists(path))
            {
                File.Move(path, Path.Combine(aside, name));
            }
        }
        File.WriteAllText(Path.Combine(aside, "reason.txt"), reason);
        PruneSetAside();
    }

    /// <summary>
    /// Keeps the newest <see cref="KeptSetAside"/> set-aside checkpoints. Every restart of <c>up</c>
    /// on the embedded broker (a new cluster each time) sets every partition's checkpoint aside, so
    /// without a bound they pile up restart after restart.
    /// </summary>
    private void PruneSetAside()
    {
        var old = new DirectoryInfo(Path.Combine(Directory, "set-aside")).GetDirectories()
            .OrderByDescending(d => d.Name, StringComparer.Ordinal) // names are sortable timestamps
            .Skip(KeptSetAside);
        foreach (var directory in old)
        {
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Someone is looking at it: the next set-aside tries again.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
