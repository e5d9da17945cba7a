using System.Numerics;
using System.Text;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Aggregation;

/// <summary>
/// A HyperLogLog distinct-count sketch (Flajolet et al. 2007) with 2^precision one-byte
/// registers. Its relative standard error is about 1.04/√m for m = 2^precision registers
/// (precision 12: 4 KiB, ≈1.6%; precision 14: 16 KiB, ≈0.8%). Two sketches of the same
/// precision merge exactly (register-wise maximum), so the merge of partial aggregates equals the
/// sketch of the union. Values are hashed with a fixed 64-bit hash, so estimates are reproducible.
/// Not thread-safe.
/// </summary>
public sealed class HyperLogLog
{
    /// <summary>The smallest precision accepted (16 registers).</summary>
    public const int MinPrecision = 4;

    /// <summary>The largest precision accepted (65,536 registers).</summary>
    public const int MaxPrecision = 16;

    private readonly byte[] _registers;

    /// <summary>Creates an empty sketch with 2^<paramref name="precision"/> registers.</summary>
    public HyperLogLog(int precision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(precision, MinPrecision);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(precision, MaxPrecision);
        Precision = precision;
        _registers = new byte[1 << precision];
    }

    /// <summary>log2 of the number of registers.</summary>
    public int Precision { get; }

    /// <summary>The relative standard error of <see cref="Estimate"/>, 1.04/√m.</summary>
    public double StandardError => 1.04 / Math.Sqrt(_registers.Length);

    /// <summary>Adds a value (UTF-8 bytes of <paramref name="value"/> are hashed).</summary>
    public void Add(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(value.Length) <= buffer.Length
            ? buffer[..Encoding.UTF8.GetBytes(value, buffer)]
            : Encoding.UTF8.GetBytes(value);
        AddHash(Hash64(bytes));
    }

    /// <summary>Folds <paramref name="other"/> into this sketch; both must have the same precision.</summary>
    public void Merge(HyperLogLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Precision != Precision)
        {
            throw new ArgumentException($"Cannot merge a sketch of precision {other.Precision} into one of precision {Precision}.", nameof(other));
        }
        for (var i = 0; i < _registers.Length; i++)
        {
            _registers[i] = Math.Max(_registers[i], other._registers[i]);
        }
    }

    /// <summary>The estimated number of distinct values added.</summary>
    public long Estimate()
    {
        var m = (double)_registers.Length;
        double inverseSum = 0;
        var zeros = 0;
        foreach (var register in _registers)
        {
            inverseSum += Math.ScaleB(1.0, -register);
            zeros += register == 0 ? 1 : 0;
        }
        var alpha = _registers.Length switch
        {
            16 => 0.673,
            32 => 0.697,
            64 => 0.709,
            _ => 0.7213 / (1 + (1.079 / m)),
        };
        var raw = alpha * m * m / inverseSum;
        // Small cardinalities: linear counting over empty registers is far more accurate.
        var estimate = raw <= 2.5 * m && zeros > 0 ? m * Math.Log(m / zeros) : raw;
        return (long)Math.Round(estimate);
    }

    /// <summary>Writes precision and registers.</summary>
    public void Write(SnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteByte((byte)Precision);
        writer.WriteBytes(_registers);
    }

    /// <summary>Reads a sketch written by <see cref="Write"/>, refusing impossible registers.</summary>
    public static HyperLogLog Read(SnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var precision = reader.ReadByte();
        reader.Check(precision is >= MinPrecision and <= MaxPrecision, $"HyperLogLog precision {precision}");
        var sketch = new HyperLogLog(precision);
        var registers = reader.ReadBytes(1 << MaxPrecision);
        reader.Check(registers.Length == sketch._registers.Length, "HyperLogLog register count does not match its precision");
        var maxRank = 64 - precision + 1;
        foreach (var register in registers)
        {
            reader.Check(register <= maxRank, "HyperLogLog register out of range");
        }
        registers.CopyTo(sketch._registers);
        return sketch;
    }

    private void AddHash(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // Rank = position of the first 1 bit in the remaining bits; all zeros gives the maximum.
        var remaining = hash << Precision;
        var rank = (byte)Math.Min(BitOperations.LeadingZeroCount(remaining) + 1, 64 - Precision + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    // FNV-1a over the bytes, then SplitMix64's finalizer: FNV alone mixes its high bits poorly,
    // and the register index comes from the high bits.
    private static ulong Hash64(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }
}
