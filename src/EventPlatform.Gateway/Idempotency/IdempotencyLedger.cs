using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>The result a key settled on: where its event is.</summary>
public readonly record struct IdempotentResult(string Topic, int Partition, long Offset, DateTimeOffset AcknowledgedAt, long AtMs);

/// <summary>Where a key stands.</summary>
public enum KeyStatus : byte
{
    /// <summary>Not remembered (never claimed, aborted, expired or forgotten): the next claim wins.</summary>
    Free,

    /// <summary>A claim holds it and its publish may still be running.</summary>
    Claimed,

    /// <summary>The claim's publish may have written the event: only reading the event topic can tell.</summary>
    InDoubt,

    /// <summary>Settled: the result is known.</summary>
    Done,
}

/// <summary>A key's state, copied out of the ledger.</summary>
public readonly record struct KeyView(KeyStatus Status, UInt128 ClaimId, UInt128 Fingerprint, long ClaimedAtMs, string? TargetTopic, IdempotentResult Result);

/// <summary>
/// The state of every key, computed from the idempotency log in log order. Which claim wins is
/// decided from the entries alone: two instances that read the same records agree on it.
/// </summary>
/// <remarks>
/// <para>
/// Rules: a claim wins when its key is free, or when the key's result (or unresolved claim) is
/// older than the window, judged by the entries' own timestamps. Done, abort and in-doubt apply
/// only to the claim that holds the key, and only until it has settled: the first one in the log
/// counts, so two resolvers racing on the same old claim agree.
/// </para>
/// <para>
/// Memory is bounded by <c>maxKeys</c>: when a new key would exceed it, settled keys are forgotten
/// oldest settlement first (counted in <see cref="ForgottenEarly"/>). A claim that has not settled is
/// never forgotten early, so the count can exceed the bound only while more claims than that are
/// unsettled at once. Forgetting is local to an instance: a retry of a forgotten key publishes again.
/// Keys are held as 128-bit hashes, results as an index into an interned topic table: about 150
/// bytes per key (see the README). Not thread-safe; the store serialises access.
/// </para>
/// </remarks>
public sealed class IdempotencyLedger(TimeSpan window, int maxKeys)
{
    private readonly long _windowMs = (long)window.TotalMilliseconds;
    private readonly Dictionary<UInt128, KeyState> _keys = [];
    private readonly Queue<(UInt128 Key, long Seq)> _settled = new();
    private readonly HashSet<UInt128> _unsettled = [];
    private readonly List<string> _topics = [];
    private readonly Dictionary<string, int> _topicIndex = new(StringComparer.Ordinal);
    private long _seq;

    /// <summary>Keys held (settled and unsettled).</summary>
    public int Count => _keys.Count;

    /// <summary>Keys held whose claim has not settled.</summary>
    public int UnsettledCount => _unsettled.Count;

    /// <summary>The configured bound.</summary>
    public int MaxKeys => maxKeys;

    /// <summary>Settled keys forgotten before their window ended, to stay within the bound.</summary>
    public long ForgottenEarly { get; private set; }

    /// <summary>The settle time (Unix ms) of the oldest settled key still held; null when none is.</summary>
    public long? OldestSettledAtMs
    {
        get
        {
            DropStaleHead();
            return _settled.TryPeek(out var head) ? _keys[head.Key].SettledAtMs : null;
        }
    }

    /// <summary>Every distinct target topic seen in a claim (interned).</summary>
    public IReadOnlyList<string> Topics => _topics;

    /// <summary>Applies one entry, in log order.</summary>
    public void Apply(in IdempotencyEntry entry)
    {
        ref var state = ref CollectionsMarshal.GetValueRefOrNullRef(_keys, entry.Key);
        var exists = !Unsafe.IsNullRef(ref state);
        switch (entry.Type)
        {
            case IdempotencyEntryType.Claim:
                if (exists && !IsFreeAt(state, entry.AtMs))
                {
                    return;
                }

                var claimed = new KeyState
                {
                    Status = KeyStatus.Claimed,
                    ClaimId = entry.ClaimId,
                    Fingerprint = entry.Fingerprint,
                    ClaimedAtMs = entry.AtMs,
                    TargetTopic = Intern(entry.Topic ?? ""),
                };
                if (exists)
                {
                    // The old settlement's queue entry goes stale (its sequence number no longer matches).
                    state = claimed;
                }
                else
                {
                    _keys.Add(entry.Key, claimed);
                    while (_keys.Count > maxKeys && ForgetOldestSettled())
                    {
                    }
                }

                _unsettled.Add(entry.Key);
                return;

            case IdempotencyEntryType.Done when exists && state.ClaimId == entry.ClaimId && state.Status != KeyStatus.Done:
                state.Status = KeyStatus.Done;
                state.ResultTopic = Intern(entry.Topic ?? "");
                state.Partition = entry.Partition;
                state.Offset = entry.Offset;
                state.AcknowledgedAtTicks = entry.AcknowledgedAtTicks;
                state.SettledAtMs = entry.AtMs;
                state.Seq = ++_seq;
                _settled.Enqueue((entry.Key, state.Seq));
                _unsettled.Remove(entry.Key);
                // Claims in progress may have filled the bound; a settled key is the first to give way.
                while (_keys.Count > maxKeys && ForgetOldestSettled())
                {
                }

                return;

            case IdempotencyEntryType.Abort when exists && state.ClaimId == entry.ClaimId && state.Status != KeyStatus.Done:
                _keys.Remove(entry.Key);
                _unsettled.Remove(entry.Key);
                return;

            case IdempotencyEntryType.InDoubt when exists && state.ClaimId == entry.ClaimId && state.Status == KeyStatus.Claimed:
                state.Status = KeyStatus.InDoubt;
                return;
        }
    }

    /// <summary>The key as seen at <paramref name="nowMs"/>: a result or claim older than the window counts as free.</summary>
    public KeyView Lookup(UInt128 key, long nowMs)
    {
        if (!_keys.TryGetValue(key, out var s) || IsFreeAt(s, nowMs))
        {
            return default;
        }

        var result = s.Status == KeyStatus.Done
            ? new IdempotentResult(_topics[s.ResultTopic], s.Partition, s.Offset, new DateTimeOffset(s.AcknowledgedAtTicks, TimeSpan.Zero), s.SettledAtMs)
            : default;
        return new KeyView(s.Status, s.ClaimId, s.Fingerprint, s.ClaimedAtMs, _topics[s.TargetTopic], result);
    }

    /// <summary>Forgets keys whose result or unsettled claim is older than the window (memory only).</summary>
    public void Prune(long nowMs)
    {
        var horizon = nowMs - _windowMs;
        while (_settled.TryPeek(out var head))
        {
            if (_keys.TryGetValue(head.Key, out var s) && s.Status == KeyStatus.Done && s.Seq == head.Seq)
            {
                if (s.SettledAtMs >= horizon)
                {
                    break;
                }

                _keys.Remove(head.Key);
            }

            _settled.Dequeue();
        }

        if (_unsettled.Count > 0)
        {
            List<UInt128>? old = null;
            foreach (var key in _unsettled)
            {
                if (_keys[key].ClaimedAtMs < horizon)
                {
                    (old ??= []).Add(key);
                }
            }

            foreach (var key in old ?? [])
            {
                _keys.Remove(key);
                _unsettled.Remove(key);
            }
        }
    }

    private bool IsFreeAt(in KeyState s, long atMs) =>
        (s.Status == KeyStatus.Done ? s.SettledAtMs : s.ClaimedAtMs) + _windowMs <= atMs;

    private bool ForgetOldestSettled()
    {
        DropStaleHead();
        if (!_settled.TryDequeue(out var head))
        {
            return false;
        }

        _keys.Remove(head.Key);
        ForgottenEarly++;
        return true;
    }

    /// <summary>Queue entries whose key was since aborted, re-claimed or pruned are dropped.</summary>
    private void DropStaleHead()
    {
        while (_settled.TryPeek(out var head)
            && !(_keys.TryGetValue(head.Key, out var s) && s.Status == KeyStatus.Done && s.Seq == head.Seq))
        {
            _settled.Dequeue();
        }
    }

    private int Intern(string topic)
    {
        if (!_topicIndex.TryGetValue(topic, out var index))
        {
            index = _topics.Count;
            _topics.Add(topic);
            _topicIndex.Add(topic, index);
        }

        return index;
    }

    private struct KeyState
    {
        public KeyStatus Status;
        public int TargetTopic;
        public int ResultTopic;
        public int Partition;
        public UInt128 ClaimId;
        public UInt128 Fingerprint;
        public long ClaimedAtMs;
        public long Offset;
        public long AcknowledgedAtTicks;
        public long SettledAtMs;
        public long Seq;
    }
}
