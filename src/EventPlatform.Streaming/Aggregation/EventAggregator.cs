using System.IO.Hashing;
using System.Runtime.InteropServices;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Aggregation;

/// <summary>One event as the aggregation sees it: its numeric reading, if any, and its user, if any.</summary>
public readonly record struct Reading
{
    /// <summary>Creates a reading; <paramref name="userId"/> is fingerprinted here, once.</summary>
    public Reading(double? value, string? userId)
    {
        Value = value;
        UserId = userId;
        UserFingerprint = userId is null ? default : FingerprintOf(userId);
    }

    /// <summary>The event's numeric reading, if any.</summary>
    public double? Value { get; }

    /// <summary>The event's user, if any.</summary>
    public string? UserId { get; }

    /// <summary>
    /// The user's 128-bit fingerprint, hashed once for every window the event falls in (the default
    /// job puts each event in nine). Get-only, so that no <c>with</c> can leave it stale.
    /// </summary>
    internal UInt128 UserFingerprint { get; }

    internal static UInt128 FingerprintOf(string userId) => XxHash128.HashToUInt128(MemoryMarshal.AsBytes(userId.AsSpan()));
}

/// <summary>
/// The seed's <c>AggregatedEvent</c> figures for one key and window. <see cref="Sum"/>,
/// <see cref="Average"/>, <see cref="Min"/> and <see cref="Max"/> are null when no event in the
/// window had a (finite) value; <see cref="Count"/> counts every event.
/// </summary>
public sealed record AggregatedReadings(long Count, double? Sum, double? Average, double? Min, double? Max, long DistinctUsers);

/// <summary>
/// The seed's <c>EventAggregator</c>: count, sum, average, min, max and distinct users. Distinct
/// users are exact by default (a set of the users' 128-bit fingerprints, as ClickHouse's
/// <c>uniqExact</c> keeps for strings; merge is union; two ids share a fingerprint with probability
/// about n²/2^129, for a billion users 10^-21); for windows with very many users
/// pass a HyperLogLog precision to bound memory at 2^precision bytes per window, with a relative
/// standard error of about 1.04/√(2^precision). Sums use Neumaier compensation, so the order of
/// records barely matters; merging partial sums in another order can still change the last bits.
/// Non-finite values (NaN, ±∞) count as events without a value. Thread-safe (stateless).
/// </summary>
public sealed class EventAggregator : IAggregateFunction<Reading, ReadingAccumulator, AggregatedReadings>
{
    private readonly int? _hyperLogLogPrecision;

    /// <summary>Creates the aggregator; <paramref name="hyperLogLogPrecision"/> null means exact distinct users.</summary>
    public EventAggregator(int? hyperLogLogPrecision = null)
    {
        if (hyperLogLogPrecision is { } precision)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(precision, HyperLogLog.MinPrecision, nameof(hyperLogLogPrecision));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(precision, HyperLogLog.MaxPrecision, nameof(hyperLogLogPrecision));
        }
        _hyperLogLogPrecision = hyperLogLogPrecision;
    }

    /// <summary>Writes and reads accumulators in operator snapshots.</summary>
    public static IStateSerializer<ReadingAccumulator> AccumulatorSerializer { get; } = new ReadingAccumulatorSerializer();

    /// <inheritdoc />
    public ReadingAccumulator CreateAccumulator() => new(_hyperLogLogPrecision);

    /// <inheritdoc />
    public ReadingAccumulator Add(ReadingAccumulator accumulator, Reading input)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        accumulator.Add(input);
        return accumulator;
    }

    /// <inheritdoc />
    public ReadingAccumulator Merge(ReadingAccumulator first, ReadingAccumulator second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        first.Merge(second);
        return first;
    }

    /// <inheritdoc />
    public AggregatedReadings GetResult(ReadingAccumulator accumulator)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        return accumulator.ToResult();
    }
}

/// <summary>The running state of <see cref="EventAggregator"/> for one key and window. Not thread-safe.</summary>
/// <remarks>
/// Exact distinct users are fingerprints: compact, hashed once per event, and compared without
/// following a pointer to a string per window. They start as one fingerprint held inline; the set
/// is made when a second user comes, so a per-user window (the default job's sessions) never makes one.
/// </remarks>
public sealed class ReadingAccumulator
{
    // Snapshot tags of the distinct-user state. Exact user ids (tag 0) are read from snapshots
    // written before fingerprints, and fingerprinted on the way in.
    private const byte ExactIdsTag = 0;
    private const byte SketchTag = 1;
    private const byte FingerprintsTag = 2;

    private readonly bool _exact;
    private readonly HyperLogLog? _userSketch;
    private bool _hasOnlyUser;
    private UInt128 _onlyUser;
    private FingerprintSet? _users;
    private NeumaierSum _sum;

    internal ReadingAccumulator(int? hyperLogLogPrecision)
    {
        if (hyperLogLogPrecision is { } precision)
        {
            _userSketch = new HyperLogLog(precision);
        }
        else
        {
            _exact = true;
        }
    }

    private ReadingAccumulator(bool exact, HyperLogLog? userSketch)
    {
        _exact = exact;
        _userSketch = userSketch;
    }

    /// <summary>Events added.</summary>
    public long Count { get; private set; }

    /// <summary>Events added that had a finite value.</summary>
    public long ValueCount { get; private set; }

    private double Min { get; set; } = double.PositiveInfinity;

    private double Max { get; set; } = double.NegativeInfinity;

    private int ExactDistinctUsers => _users?.Count ?? (_hasOnlyUser ? 1 : 0);

    private IEnumerable<UInt128> ExactUsers => _users?.Items() ?? (_hasOnlyUser ? [_onlyUser] : []);

    internal void Add(in Reading reading)
    {
        Count++;
        if (reading.Value is { } value && double.IsFinite(value))
        {
            ValueCount++;
            _sum.Add(value);
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }
        if (reading.UserId is { } user)
        {
            if (_exact)
            {
                AddUser(reading.UserFingerprint);
            }
            else
            {
                _userSketch!.Add(user);
            }
        }
    }

    /// <summary>Adds a user's fingerprint; false when it was there already.</summary>
    private bool AddUser(UInt128 user)
    {
        if (_users is not null)
        {
            return _users.Add(user);
        }
        if (!_hasOnlyUser)
        {
            (_onlyUser, _hasOnlyUser) = (user, true);
            return true;
        }
        if (_onlyUser == user)
        {
            return false;
        }
        _users = new FingerprintSet();
        _users.Add(_onlyUser);
        _users.Add(user);
        _hasOnlyUser = false;
        return true;
    }

    internal void Merge(ReadingAccumulator other)
    {
        if (_exact != other._exact)
        {
            throw new InvalidOperationException("Cannot merge an exact distinct count with a HyperLogLog one.");
        }
        Count += other.Count;
        ValueCount += other.ValueCount;
        _sum.Add(other._sum);
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        if (_exact)
        {
            foreach (var user in other.ExactUsers)
            {
                AddUser(user);
            }
        }
        else
        {
            _userSketch!.Merge(other._userSketch!);
        }
    }

    internal AggregatedReadings ToResult()
    {
        var distinct = _exact ? ExactDistinctUsers : _userSketch!.Estimate();
        if (ValueCount == 0)
        {
            return new AggregatedReadings(Count, null, null, null, null, distinct);
        }
        var sum = _sum.Value;
        return new AggregatedReadings(Count, sum, sum / ValueCount, Min, Max, distinct);
    }

    internal void Write(SnapshotWriter writer)
    {
        writer.WriteInt64(Count);
        writer.WriteInt64(ValueCount);
        writer.WriteDouble(_sum.RunningSum);
        writer.WriteDouble(_sum.Compensation);
        writer.WriteDouble(Min);
        writer.WriteDouble(Max);
        if (_userSketch is not null)
        {
            writer.WriteByte(SketchTag);
            _userSketch.Write(writer);
            return;
        }
        writer.WriteByte(FingerprintsTag);
        writer.WriteInt32(ExactDistinctUsers);
        // Sorted, so that equal states give equal snapshots.
        foreach (var user in ExactUsers.Order())
        {
            writer.WriteInt64((long)(ulong)(user >> 64));
            writer.WriteInt64((long)(ulong)user);
        }
    }

    internal static ReadingAccumulator Read(SnapshotReader reader)
    {
        var count = reader.ReadInt64();
        var valueCount = reader.ReadInt64();
        reader.Check(count >= 0 && valueCount >= 0 && valueCount <= count, "accumulator counts");
        var sum = new NeumaierSum(reader.ReadDouble(), reader.ReadDouble());
        var min = reader.ReadDouble();
        var max = reader.ReadDouble();
        ReadingAccumulator accumulator;
        var tag = reader.ReadByte();
        if (tag == SketchTag)
        {
            accumulator = new ReadingAccumulator(exact: false, HyperLogLog.Read(reader));
        }
        else
        {
            reader.Check(tag is ExactIdsTag or FingerprintsTag, "an unknown kind of distinct-user state");
            var userCount = reader.ReadCount(1 << 24, bytesPerItem: tag == FingerprintsTag ? 16 : 4);
            reader.Check(userCount <= count, "more users than events");
            accumulator = new ReadingAccumulator(exact: true, null);
            for (var i = 0; i < userCount; i++)
            {
                var user = tag == FingerprintsTag
                    ? new UInt128((ulong)reader.ReadInt64(), (ulong)reader.ReadInt64())
                    : Reading.FingerprintOf(reader.ReadString());
                reader.Check(accumulator.AddUser(user), "duplicate user");
            }
        }
        accumulator.Count = count;
        accumulator.ValueCount = valueCount;
        accumulator._sum = sum;
        accumulator.Min = min;
        accumulator.Max = max;
        return accumulator;
    }
}

internal sealed class ReadingAccumulatorSerializer : IStateSerializer<ReadingAccumulator>
{
    public void Write(SnapshotWriter writer, ReadingAccumulator value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        value.Write(writer);
    }

    public ReadingAccumulator Read(SnapshotReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ReadingAccumulator.Read(reader);
    }
}
