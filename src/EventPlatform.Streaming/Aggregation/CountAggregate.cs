using EventPlatform.Streaming.Operators;

namespace EventPlatform.Streaming.Aggregation;

/// <summary>Counts a window's elements; the accumulator is the count (serialize it with <c>StateSerializers.Int64</c>).</summary>
public sealed class CountAggregate<T> : IAggregateFunction<T, long, long>
{
    /// <inheritdoc />
    public long CreateAccumulator() => 0;

    /// <inheritdoc />
    public long Add(long accumulator, T input) => accumulator + 1;

    /// <inheritdoc />
    public long Merge(long first, long second) => first + second;

    /// <inheritdoc />
    public long GetResult(long accumulator) => accumulator;
}
