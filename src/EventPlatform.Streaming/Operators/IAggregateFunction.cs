namespace EventPlatform.Streaming.Operators;

/// <summary>
/// An incremental aggregation, as Flink's <c>AggregateFunction</c>: the operator keeps one
/// accumulator per key and window instead of the window's records. <see cref="Merge"/> combines
/// two partial aggregates; sessions need it when windows merge, and scale-out needs it to combine
/// partial aggregates from several instances. Implementations may mutate and return the
/// accumulator they are given; they must be deterministic so a replay gives the same output.
/// </summary>
public interface IAggregateFunction<in TIn, TAcc, out TOut>
{
    /// <summary>An empty accumulator.</summary>
    TAcc CreateAccumulator();

    /// <summary>Adds one input; returns the accumulator to keep (it may be <paramref name="accumulator"/>).</summary>
    TAcc Add(TAcc accumulator, TIn input);

    /// <summary>Combines two accumulators; neither argument is used afterwards.</summary>
    TAcc Merge(TAcc first, TAcc second);

    /// <summary>The result for a window; must not change the accumulator, which may receive late updates.</summary>
    TOut GetResult(TAcc accumulator);
}
