using System.Buffers;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.State;
using FsCheck.Xunit;

namespace EventPlatform.Streaming.Tests;

/// <summary>
/// Exact distinct users are kept as 128-bit fingerprints in <see cref="FingerprintSet"/>: the set
/// agrees with a plain set, and the accumulator's count agrees with the distinct ids, through merges,
/// snapshots, and snapshots written before fingerprints.
/// </summary>
public class DistinctUsersTests
{
    private static readonly EventAggregator Exact = new();

    [Property(MaxTest = 200)]
    public void The_fingerprint_set_holds_what_a_plain_set_holds(int seed)
    {
        var random = new Random(seed);
        var set = new FingerprintSet();
        var reference = new HashSet<UInt128>();
        var count = random.Next(0, 2_000);
        for (var i = 0; i < count; i++)
        {
            // Few distinct low bits (one slot for many), zero (the empty marker) and repeats.
            var fingerprint = random.Next(6) switch
            {
                0 => UInt128.Zero,
                1 => new UInt128((ulong)random.Next(1, 50), 0),
                2 => new UInt128((ulong)random.NextInt64(), (ulong)random.Next(4)),
                _ => new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()),
            };
            Assert.Equal(reference.Add(fingerprint), set.Add(fingerprint));
            Assert.Equal(reference.Count, set.Count);
        }

        Assert.Equal(reference.Order(), set.Items().Order());
    }

    [Property(MaxTest = 200)]
    public void Distinct_users_are_exact_through_adds_merges_and_snapshots(int seed)
    {
        var random = new Random(seed);
        var users = Enumerable.Range(0, random.Next(1, 300)).Select(i => $"user-{random.Next(1 + (i % 40))}-{i % 7}").ToArray();
        var split = random.Next(users.Length + 1);
        var first = Fill(users[..split]);
        var second = Fill(users[split..]);

        var merged = Exact.Merge(RoundTrip(first), RoundTrip(second));

        Assert.Equal(users.Distinct(StringComparer.Ordinal).Count(), Exact.GetResult(merged).DistinctUsers);
        Assert.Equal(users.Length, Exact.GetResult(merged).Count);
        Assert.Equal(Bytes(merged), Bytes(RoundTrip(merged)));
    }

    [Fact]
    public void A_snapshot_written_with_user_ids_before_fingerprints_restores_the_same_users()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(buffer);
        writer.WriteInt64(3);
        writer.WriteInt64(0);
        writer.WriteDouble(0);
        writer.WriteDouble(0);
        writer.WriteDouble(double.PositiveInfinity);
        writer.WriteDouble(double.NegativeInfinity);
        writer.WriteBoolean(false);
        writer.WriteInt32(2);
        writer.WriteString("alice");
        writer.WriteString("bob");

        var restored = EventAggregator.AccumulatorSerializer.Read(new SnapshotReader(buffer.WrittenMemory));
        Assert.Equal(2, Exact.GetResult(restored).DistinctUsers);

        Exact.Add(restored, new Reading(null, "alice"));
        Assert.Equal(2, Exact.GetResult(restored).DistinctUsers);
        Exact.Add(restored, new Reading(null, "carol"));
        Assert.Equal(3, Exact.GetResult(restored).DistinctUsers);
    }

    [Fact]
    public void A_snapshot_that_repeats_a_user_is_refused()
    {
        var source = Fill(["alice", "bob"]);
        var bytes = Bytes(source);
        // The two fingerprints are the last 32 bytes: make the second a copy of the first.
        bytes.AsSpan(bytes.Length - 32, 16).CopyTo(bytes.AsSpan(bytes.Length - 16));

        Assert.Throws<SnapshotFormatException>(() => EventAggregator.AccumulatorSerializer.Read(new SnapshotReader(bytes)));
    }

    private static ReadingAccumulator Fill(IEnumerable<string> users)
    {
        var accumulator = Exact.CreateAccumulator();
        foreach (var user in users)
        {
            accumulator = Exact.Add(accumulator, new Reading(1, user));
        }

        return accumulator;
    }

    private static byte[] Bytes(ReadingAccumulator accumulator)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EventAggregator.AccumulatorSerializer.Write(new SnapshotWriter(buffer), accumulator);
        return buffer.WrittenSpan.ToArray();
    }

    private static ReadingAccumulator RoundTrip(ReadingAccumulator accumulator) =>
        EventAggregator.AccumulatorSerializer.Read(new SnapshotReader(Bytes(accumulator)));
}
