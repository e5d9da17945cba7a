namespace EventPlatform.Gateway.Idempotency;

/// <summary>The result a key settled on.</summary>
public sealed record IdempotentResult(string Fingerprint, string Topic, int Partition, long Offset, DateTimeOffset AcknowledgedAt, long AtMs);

/// <summary>
/// The state of every key, computed from the idempotency topic in log order. Pure and
/// deterministic: two instances that read the same records hold the same state, which is what
/// lets them agree on a winner without talking to each other. Not thread-safe; the store
/// serialises access.
/// </summary>
public sealed class IdempotencyLedger(TimeSpan window, TimeSpan claimTimeout)
{
    private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);

    public int Count => _keys.Count;

    /// <summary>Applies one record, in log order.</summary>
    public void Apply(string key, IdempotencyRecord record)
    {
        _keys.TryGetValue(key, out var state);
        switch (record.Type)
        {
            case IdempotencyRecordType.Claim:
                if (state is null || IsFree(state, record.AtMs))
                {
                    _keys[key] = new KeyState(record.ClaimId, record.Fingerprint, record.AtMs, null);
                }

                break;
            case IdempotencyRecordType.Done when state is not null && state.WinnerClaimId == record.ClaimId && state.Result is null:
                state.Result = new IdempotentResult(state.Fingerprint, record.Topic!, record.Partition!.Value, record.Offset!.Value, record.AcknowledgedAt!.Value, record.AtMs);
                break;
            case IdempotencyRecordType.Abort when state is not null && state.WinnerClaimId == record.ClaimId && state.Result is null:
                _keys.Remove(key);
                break;
        }
    }

    /// <summary>The key's settled result, if it has one that is still within the window at <paramref name="nowMs"/>.</summary>
    public IdempotentResult? Result(string key, long nowMs) =>
        _keys.TryGetValue(key, out var state) && state.Result is { } r && r.AtMs + (long)window.TotalMilliseconds > nowMs ? r : null;

    /// <summary>The claim currently holding the key, if any.</summary>
    public string? Winner(string key) => _keys.TryGetValue(key, out var state) ? state.WinnerClaimId : null;

    /// <summary>Forgets keys whose result or claim is older than the window (memory only).</summary>
    public void Prune(long nowMs)
    {
        var horizon = nowMs - (long)window.TotalMilliseconds;
        foreach (var (key, state) in _keys)
        {
            if ((state.Result?.AtMs ?? state.ClaimedAtMs) < horizon)
            {
                _keys.Remove(key);
            }
        }
    }

    private bool IsFree(KeyState state, long atMs) => state.Result is { } r
        ? r.AtMs + (long)window.TotalMilliseconds <= atMs
        : state.ClaimedAtMs + (long)claimTimeout.TotalMilliseconds <= atMs;

    private sealed class KeyState(string winnerClaimId, string fingerprint, long claimedAtMs, IdempotentResult? result)
    {
        public string WinnerClaimId { get; } = winnerClaimId;

        public string Fingerprint { get; } = fingerprint;

        public long ClaimedAtMs { get; } = claimedAtMs;

        public IdempotentResult? Result { get; set; } = result;
    }
}
