using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Runtime.Checkpoints;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Tests;

/// <summary>The data-directory checkpoint store: atomic replacement, torn writes, corruption, setting aside.</summary>
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "checkpoints-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static Checkpoint Make(long offset) => new(
        "cluster-a", "job", "fp", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
        new Dictionary<SourcePartition, long> { [new("in", 0)] = offset, [new("in", 1)] = offset + 1 },
        [1, 2, 3, (byte)offset]);

    private static void AssertSame(Checkpoint expected, Checkpoint? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.ClusterId, actual.ClusterId);
        Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Offsets, actual.Offsets);
        Assert.Equal(expected.State, actual.State);
    }

    [Fact]
    public void A_checkpoint_reads_back_as_it_was_written()
    {
        var checkpoint = Make(7);

        AssertSame(checkpoint, Checkpoint.Deserialize(checkpoint.Serialize()));
    }

    [Fact]
    public void An_empty_store_loads_nothing()
    {
        Assert.Null(new FileCheckpointStore(_directory).Load());
    }

    [Fact]
    public void A_torn_write_leaves_a_temp_file_and_the_last_checkpoint_is_loaded_and_the_leftover_removed()
    {
        var store = new FileCheckpointStore(_directory);
        store.Save(Make(1));
        store.Save(Make(2));
        var leftover = Path.Combine(_directory, "checkpoint.tmp-torn");
        File.WriteAllBytes(leftover, Make(3).Serialize()[..20]);

        var loaded = store.Load();

        AssertSame(Make(2), loaded);
        Assert.False(File.Exists(leftover));
        Assert.Null(store.LastLoadProblem);
    }

    [Fact]
    public void A_corrupt_newest_checkpoint_is_passed_over_for_the_previous_one()
    {
        var store = new FileCheckpointStore(_directory);
        store.Save(Make(1));
        store.Save(Make(2));
        var current = Path.Combine(_directory, "checkpoint");
        var bytes = File.ReadAllBytes(current);
        bytes[^6] ^= 0xFF;
        File.WriteAllBytes(current, bytes);

        var loaded = store.Load();

        AssertSame(Make(1), loaded);
        Assert.Contains("CRC", store.LastLoadProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_or_foreign_bytes_are_refused_as_a_format_error()
    {
        var bytes = Make(1).Serialize();

        Assert.Throws<SnapshotFormatException>(() => Checkpoint.Deserialize(bytes[..^1]));
        Assert.Throws<SnapshotFormatException>(() => Checkpoint.Deserialize("not a checkpoint"u8.ToArray()));
    }

    [Fact]
    public void Setting_aside_moves_both_files_out_of_the_way_with_the_reason()
    {
        var store = new FileCheckpointStore(_directory);
        store.Save(Make(1));
        store.Save(Make(2));

        store.SetAside("another cluster");

        Assert.Null(store.Load());
        var aside = Assert.Single(Directory.GetDirectories(Path.Combine(_directory, "set-aside")));
        Assert.Equal("another cluster", File.ReadAllText(Path.Combine(aside, "reason.txt")));
        AssertSame(Make(2), Checkpoint.Deserialize(File.ReadAllBytes(Path.Combine(aside, "checkpoint"))));
    }

    [Fact]
    public void Only_the_newest_set_aside_checkpoints_are_kept()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var store = new FileCheckpointStore(_directory, clock);
        for (var i = 0; i < FileCheckpointStore.KeptSetAside + 3; i++)
        {
            store.Save(Make(i));
            store.SetAside($"restart {i}");
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        var kept = Directory.GetDirectories(Path.Combine(_directory, "set-aside")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(FileCheckpointStore.KeptSetAside, kept.Length);
        Assert.Equal(
            Enumerable.Range(3, FileCheckpointStore.KeptSetAside).Select(i => $"restart {i}"),
            kept.Select(d => File.ReadAllText(Path.Combine(d, "reason.txt"))));
    }
}
