using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.Aggregation;

/// <summary>One event as the aggregation sees it: its numeric reading, if any, and its user, if any.</summary>
public readonly record struct Reading(double? Value, string? UserId);

/// <summary>
/// The seed's <c>AggregatedEvent</c> figures for one key and window. <see cref="Sum"/>,
/// <see cref="Average"/>, <see cref="Min"/> and <see cref="Max"/> are null when no event in the
/// window had a (finite) value; <see cref="Count"/> counts every event.
/// </summary>
public sealed record AggregatedReadings(long Count, double? Sum, double? Average, double? Min, double? Max, long DistinctUsers);

/// <summary>
/// The seed's <c>EventAggregator</c>: count, sum, average, min, max and distinct users. Distinct
/// users are exact by default (a set of user ids; merge is union); for windows with very many users
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
public sealed class ReadingAccumulator
{
    private readonly HashSet<string>? _users;
    private readonly HyperLogLog? _userSketch;
    private NeumaierSum _sum;

    internal ReadingAccumulator(int? hyperLogLogPrecision)
    {
        if (hyperLogLogPrecision is { } precision)
        {
            _userSketch = new HyperLogLog(precision);
        }
        else
        {
            _users = new HashSet<string>(StringComparer.Ordinal);
        }
    }

    private ReadingAccumulator(HashSet<string>? users, HyperLogLog? userSketch)
    {
        _users = users;
        _userSketch = userSketch;
    }

    /// <summary>Events added.</summary>
    public long Count { get; private set; }

    /// <summary>Events added that had a finite value.</summary>
    public long ValueCount { get; private set; }

    private double Min { get; set; } = double.PositiveInfinity;

    private double Max { get; set; } = double.NegativeInfinity;

    internal void Add(Reading reading)
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
            _users?.Add(user);
            _userSketch?.Add(user);
        }
    }

    internal void Merge(ReadingAccumulator other)
    {
        if ((_users is null) != (other._users is null))
        {
            throw new InvalidOperationException("Cannot merge an exact distinct count with a HyperLogLog one.");
        }
        Count += other.Count;
        ValueCount += other.ValueCount;
        _sum.Add(other._sum);
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        _users?.UnionWith(other._users!);
        _userSketch?.Merge(other._userSketch!);
    }

    internal AggregatedReadings ToResult()
    {
        var distinct = _users?.Count ?? _userSketch!.Estimate();
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
        writer.WriteBoolean(_userSketch is not null);
        if (_userSketch is not null)
        {
            _userSketch.Write(writer);
            return;
        }
        writer.WriteInt32(_users!.Count);
        // Sorted, so that equal states give equal snapshots.
        foreach (var user in _users.Order(StringComparer.Ordinal))
        {
            writer.WriteString(user);
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
        if (reader.ReadBoolean())
        {
            accumulator = new ReadingAccumulator(null, HyperLogLog.Read(reader));
        }
        else
        {
            var userCount = reader.ReadCount(1 << 24, bytesPerItem: 4);
            var users = new HashSet<string>(userCount, StringComparer.Ordinal);
            for (var i = 0; i < userCount; i++)
            {
                reader.Check(users.Add(reader.ReadString()), "duplicate user id");
            }
            reader.Check(users.Count <= count, "more users than events");
            accumulator = new ReadingAccumulator(users, null);
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
