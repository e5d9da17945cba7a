using BenchmarkDotNet.Attributes;
using EventPlatform.Gateway.Idempotency;

namespace EventPlatform.Benchmarks;

/// <summary>
/// The in-process CPU an idempotent publish adds, per request: the scoped key (SHA-256), the
/// ledger (claim applied, looked up, done applied) on a ledger already holding many keys, and the
/// log record's encoding and decoding with many entries per record (group commit). What is not
/// here is the claim's produce and fetch: those cost broker round trips, not gateway CPU, and are
/// measured side by side with <c>bench/sidebyside.sh</c>.
/// </summary>
[MemoryDiagnoser]
public class IdempotencyBenchmarks
{
    private const int Requests = 1_000;
    private const string Topic = "events.iot.sensors";

    private readonly List<IdempotencyEntry> _decoded = new(Requests * 2);
    private IdempotencyLedger _ledger = new(TimeSpan.FromHours(24), 1_000_000);
    private string[] _eventIds = [];
    private UInt128[] _keys = [];
    private IdempotencyEntry[] _claims = [];
    private IdempotencyEntry[] _record = [];
    private byte[] _encoded = [];
    private long _nowMs;
    private int _round;

    /// <summary>Keys the ledger already holds: lookups and inserts in a large table.</summary>
    [Params(100_000)]
    public int Held { get; set; }

    /// <summary>Entries per record of the log (claims and dones of concurrent requests together).</summary>
    [Params(16, 128)]
    public int EntriesPerRecord { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _ledger = new IdempotencyLedger(TimeSpan.FromHours(24), 1_000_000);
        for (var i = 0; i < Held; i++)
        {
            var key = IdempotencyKeys.Key("load-test", "held-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var claim = IdempotencyKeys.NewClaimId();
            _ledger.Apply(IdempotencyEntry.Claim(key, claim, _nowMs, key, Topic));
            _ledger.Apply(IdempotencyEntry.Done(key, claim, _nowMs, Topic, i % 12, i, _nowMs));
        }

        _eventIds = [.. Enumerable.Range(0, Requests).Select(_ => Guid.NewGuid().ToString())];
        _keys = [.. _eventIds.Select(id => IdempotencyKeys.Key("load-test", id))];
        _claims = [.. _keys.Select(k => IdempotencyEntry.Claim(k, IdempotencyKeys.NewClaimId(), _nowMs, k, Topic))];
        _record = [.. Enumerable.Range(0, EntriesPerRecord).Select(i => i % 2 == 0
            ? _claims[i]
            : IdempotencyEntry.Done(_claims[i].Key, _claims[i].ClaimId, _nowMs, Topic, i % 12, i, _nowMs))];
        _encoded = IdempotencyCodec.Encode(_record);
    }

    [Benchmark(OperationsPerInvoke = Requests, Description = "scoped key: SHA-256 of subject and event id")]
    public UInt128 Key()
    {
        UInt128 last = default;
        foreach (var id in _eventIds)
        {
            last = IdempotencyKeys.Key("load-test", id);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Requests, Description = "ledger: lookup, claim, lookup, done (one request)")]
    public KeyStatus Ledger()
    {
        // Fresh claim ids each round, so every request is a first publish and never a replay.
        var round = ++_round;
        var status = KeyStatus.Free;
        for (var i = 0; i < _claims.Length; i++)
        {
            var claim = _claims[i] with { ClaimId = _claims[i].ClaimId + (UInt128)round, Key = _claims[i].Key + ((UInt128)round << 64) };
            status = _ledger.Lookup(claim.Key, _nowMs).Status;
            _ledger.Apply(claim);
            status = _ledger.Lookup(claim.Key, _nowMs).Status;
            _ledger.Apply(IdempotencyEntry.Done(claim.Key, claim.ClaimId, _nowMs, Topic, i % 12, i, _nowMs));
        }

        return status;
    }

    [Benchmark(Description = "record: encode (per record)")]
    public byte[] Encode() => IdempotencyCodec.Encode(_record);

    [Benchmark(Description = "record: decode (per record)")]
    public int Decode()
    {
        _decoded.Clear();
        IdempotencyCodec.TryDecode(_encoded, _decoded);
        return _decoded.Count;
    }
}
