namespace EventPlatform.Streaming.Aggregation;

/// <summary>
/// A set of 128-bit fingerprints: open addressing with linear probing over one array of
/// fingerprints. The fingerprints are already uniform hashes, so their low bits are the slot: no
/// hashing, no per-entry hash code or chain link, and one cache line per lookup as a rule.
/// </summary>
/// <remarks>Zero marks an empty slot; the fingerprint zero is kept in a flag of its own. Not thread-safe.</remarks>
internal sealed class FingerprintSet
{
    private const int InitialCapacity = 8;

    private UInt128[] _slots = new UInt128[InitialCapacity];
    private bool _hasZero;
    private int _nonZero;

    public int Count => _nonZero + (_hasZero ? 1 : 0);

    /// <summary>Adds a fingerprint; false when it was there already.</summary>
    public bool Add(UInt128 fingerprint)
    {
        if (fingerprint == UInt128.Zero)
        {
            var added = !_hasZero;
            _hasZero = true;
            return added;
        }

        // Grow at three quarters full, so probe runs stay short.
        if ((_nonZero + 1) * 4 > _slots.Length * 3)
        {
            Grow();
        }

        return Insert(_slots, fingerprint, ref _nonZero);
    }

    /// <summary>Every fingerprint, in no particular order.</summary>
    public IEnumerable<UInt128> Items()
    {
        if (_hasZero)
        {
            yield return UInt128.Zero;
        }

        foreach (var slot in _slots)
        {
            if (slot != UInt128.Zero)
            {
                yield return slot;
            }
        }
    }

    private static bool Insert(UInt128[] slots, UInt128 fingerprint, ref int count)
    {
        var mask = slots.Length - 1;
        for (var i = (int)(ulong)fingerprint & mask; ; i = (i + 1) & mask)
        {
            var slot = slots[i];
            if (slot == fingerprint)
            {
                return false;
            }

            if (slot == UInt128.Zero)
            {
                slots[i] = fingerprint;
                count++;
                return true;
            }
        }
    }

    private void Grow()
    {
        var slots = new UInt128[_slots.Length * 2];
        var count = 0;
        foreach (var slot in _slots)
        {
            if (slot != UInt128.Zero)
            {
                Insert(slots, slot, ref count);
            }
        }

        _slots = slots;
    }
}
