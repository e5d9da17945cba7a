using EventPlatform.Gateway.Idempotency;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests;

/// <summary>The ledger and the log's record codec, without a broker.</summary>
public sealed class IdempotencyLedgerTests
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    /// <summary>Entries made from random bytes: few keys and claims, so that they collide often.</summary>
    private static List<IdempotencyEntry> EntriesFrom(byte[] ops)
    {
        var entries = new List<IdempotencyEntry>();
        long at = 1_000_000;
        for (var i = 0; i + 1 < ops.Length; i += 2)
        {
            var key = (UInt128)(ops[i] & 0x0f);
            var claim = (UInt128)((ops[i] >> 4) & 0x03) + (key << 8);
            at += ops[i + 1] * 1000L;
            entries.Add((ops[i + 1] & 0x03) switch
            {
                0 => IdempotencyEntry.Claim(key, claim, at, claim * 7, "events.t" + (ops[i] & 1)),
                1 => IdempotencyEntry.Done(key, claim, at, "events.t0", ops[i] & 3, at, at),
                2 => IdempotencyEntry.Abort(key, claim, at),
                _ => IdempotencyEntry.InDoubt(key, claim, at),
            });
        }

        return entries;
    }

    private static IEnumerable<KeyView> Views(IdempotencyLedger ledger, long now) =>
        Enumerable.Range(0, 16).Select(k => ledger.Lookup((UInt128)k, now));

    [Property(MaxTest = 300)]
    public bool Two_ledgers_fed_the_same_records_agree(byte[] ops, byte[] cuts)
    {
        var entries = EntriesFrom(ops ?? []);
        var one = new IdempotencyLedger(Window, 1000);
        foreach (var e in entries)
        {
            one.Apply(e);
        }

        // The other reads them through the codec, cut into records of random sizes.
        var two = new IdempotencyLedger(Window, 1000);
        var decoded = new List<IdempotencyEntry>();
        var at = 0;
        var c = 0;
        while (at < entries.Count)
        {
            var n = Math.Min(entries.Count - at, 1 + (cuts is { Length: > 0 } ? cuts[c++ % cuts.Length] % 5 : 3));
            var record = IdempotencyCodec.Encode(entries.GetRange(at, n).ToArray());
            decoded.Clear();
            if (!IdempotencyCodec.TryDecode(record, decoded) || decoded.Count != n)
            {
                return false;
            }

            foreach (var e in decoded)
            {
                two.Apply(e);
            }

            at += n;
        }

        var now = entries.Count > 0 ? entries[^1].AtMs : 0;
        return Views(one, now).SequenceEqual(Views(two, now)) && decoded.Count <= entries.Count;
    }

    [Property(MaxTest = 300)]
    public bool The_bound_is_never_exceeded_by_settled_keys(byte[] ops, byte bound)
    {
        var max = 1 + (bound % 6);
        var ledger = new IdempotencyLedger(Window, max);
        foreach (var e in EntriesFrom(ops ?? []))
        {
            ledger.Apply(e);
            if (ledger.Count > Math.Max(max, ledger.UnsettledCount))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 1000)]
    public bool Random_bytes_as_a_record_never_throw(byte[] bytes, bool withHeader)
    {
        var value = bytes ?? [];
        if (withHeader && value.Length >= 2)
        {
            value[0] = IdempotencyCodec.Magic;
            value[1] = IdempotencyCodec.Version;
        }

        var entries = new List<IdempotencyEntry>();
        var ok = IdempotencyCodec.TryDecode(value, entries);
        var ledger = new IdempotencyLedger(Window, 10);
        foreach (var e in entries)
        {
            ledger.Apply(e);
        }

        return ok || entries.Count == 0;
    }

    [Fact]
    public void A_record_cut_short_or_not_ours_is_skipped_whole()
    {
        var record = IdempotencyCodec.Encode([IdempotencyEntry.Claim(1, 2, 3, 4, "events.a"), IdempotencyEntry.Done(1, 2, 5, "events.a", 0, 9, 5)]);
        var entries = new List<IdempotencyEntry>();
        for (var n = 0; n < record.Length; n++)
        {
            Assert.False(IdempotencyCodec.TryDecode(record.AsSpan(0, n), entries));
        }

        Assert.False(IdempotencyCodec.TryDecode("{\"type\":\"claim\"}"u8, entries));
        Assert.Empty(entries);
        Assert.True(IdempotencyCodec.TryDecode(record, entries));
        Assert.Equal(2, entries.Count);
        Assert.Equal("events.a", entries[1].Topic);
        Assert.Equal(9, entries[1].Offset);
    }

    [Fact]
    public void The_first_claim_wins_and_only_its_first_settlement_counts()
    {
        var ledger = new IdempotencyLedger(Window, 100);
        ledger.Apply(IdempotencyEntry.Claim(1, 10, 1000, 5, "events.a"));
        ledger.Apply(IdempotencyEntry.Claim(1, 11, 1001, 5, "events.a"));
        Assert.Equal((UInt128)10, ledger.Lookup(1, 1002).ClaimId);

        // Another claim's done is ignored; the winner's first settlement counts, a later abort does not.
        ledger.Apply(IdempotencyEntry.Done(1, 11, 1003, "events.a", 0, 1, 1003));
        Assert.Equal(KeyStatus.Claimed, ledger.Lookup(1, 1004).Status);
        ledger.Apply(IdempotencyEntry.InDoubt(1, 10, 1005));
        Assert.Equal(KeyStatus.InDoubt, ledger.Lookup(1, 1006).Status);
        ledger.Apply(IdempotencyEntry.Done(1, 10, 1007, "events.a", 2, 42, 1007));
        ledger.Apply(IdempotencyEntry.Abort(1, 10, 1008));
        var view = ledger.Lookup(1, 1009);
        Assert.Equal(KeyStatus.Done, view.Status);
        Assert.Equal(42, view.Result.Offset);
    }

    [Fact]
    public void Abort_frees_a_key_and_in_doubt_keeps_it()
    {
        var ledger = new IdempotencyLedger(Window, 100);
        ledger.Apply(IdempotencyEntry.Claim(1, 10, 1000, 5, "events.a"));
        ledger.Apply(IdempotencyEntry.Abort(1, 10, 1001));
        Assert.Equal(KeyStatus.Free, ledger.Lookup(1, 1002).Status);

        ledger.Apply(IdempotencyEntry.Claim(2, 20, 1000, 5, "events.a"));
        ledger.Apply(IdempotencyEntry.InDoubt(2, 20, 1001));
        ledger.Apply(IdempotencyEntry.Claim(2, 21, 1002, 5, "events.a"));
        Assert.Equal((UInt128)20, ledger.Lookup(2, 1003).ClaimId);
        Assert.Equal(KeyStatus.InDoubt, ledger.Lookup(2, 1003).Status);
    }

    [Fact]
    public void At_the_bound_settled_keys_go_oldest_first_and_claims_in_progress_stay()
    {
        var ledger = new IdempotencyLedger(Window, 3);
        ledger.Apply(IdempotencyEntry.Claim(1, 10, 1000, 5, "events.a"));
        for (var k = 2; k <= 4; k++)
        {
            ledger.Apply(IdempotencyEntry.Claim((UInt128)k, (UInt128)(k * 10), 1000 + k, 5, "events.a"));
            ledger.Apply(IdempotencyEntry.Done((UInt128)k, (UInt128)(k * 10), 1000 + k, "events.a", 0, k, 1000 + k));
        }

        Assert.Equal(3, ledger.Count);
        Assert.Equal(1, ledger.ForgottenEarly);
        Assert.Equal(KeyStatus.Claimed, ledger.Lookup(1, 2000).Status);
        Assert.Equal(KeyStatus.Free, ledger.Lookup(2, 2000).Status);
        Assert.Equal(KeyStatus.Done, ledger.Lookup(3, 2000).Status);
        Assert.Equal(1003, ledger.OldestSettledAtMs);
    }

    [Fact]
    public void Keys_are_scoped_by_subject()
    {
        Assert.NotEqual(IdempotencyKeys.Key("a", "bc"), IdempotencyKeys.Key("ab", "c"));
        Assert.Equal(IdempotencyKeys.Key("a", "k"), IdempotencyKeys.Key("a", "k"));
        var id = IdempotencyKeys.NewClaimId();
        Assert.True(IdempotencyKeys.Names(IdempotencyKeys.HeaderValue(id), id));
        Assert.False(IdempotencyKeys.Names(IdempotencyKeys.HeaderValue(id), id + 1));
    }

    [Fact]
    public void Claim_ids_never_repeat_across_threads_and_carry_the_process_prefix()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<UInt128>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                ids.Add(IdempotencyKeys.NewClaimId());
            }
        });

        Assert.Equal(160_000, ids.Distinct().Count());
        Assert.Single(ids.Select(id => (ulong)(id >> 64)).Distinct());
    }
}
