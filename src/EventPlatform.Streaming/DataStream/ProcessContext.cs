namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// What a <c>Process</c> function emits to: the main output and tagged side outputs. Elements keep
/// the input's event time unless given another. Valid only during the call it is passed to.
/// </summary>
/// <typeparam name="TOut">The main output's element type.</typeparam>
public sealed class ProcessContext<TOut>
{
    private readonly Action<TOut, long> _main;
    private readonly Dictionary<string, Delegate> _sides;

    internal ProcessContext(Action<TOut, long> main, Dictionary<string, Delegate> sides)
    {
        _main = main;
        _sides = sides;
    }

    /// <summary>The event time of the element being processed (epoch milliseconds).</summary>
    public long Timestamp { get; internal set; }

    /// <summary>Emits to the main output with the input's event time.</summary>
    public void Emit(TOut value) => _main(value, Timestamp);

    /// <summary>Emits to the side output named by <paramref name="tag"/>; a tag no stream reads is ignored.</summary>
    public void Emit<TSide>(OutputTag<TSide> tag, TSide value)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (_sides.TryGetValue(tag.Id, out var side))
        {
            ((Action<TSide, long>)side)(value, Timestamp);
        }
    }
}
