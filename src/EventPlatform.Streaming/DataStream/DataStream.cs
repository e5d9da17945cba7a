using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// A stream of elements of type <typeparamref name="T"/>, each with an event time. Every method
/// adds a step that reads this stream; a stream can feed several steps (each gets every element).
/// </summary>
public abstract class DataStream<T> : StreamNode
{
    private readonly List<IStreamConsumer<T>> _consumers = [];

    private protected DataStream(StreamJob job) : base(job)
    {
    }

    /// <summary>Keeps the elements for which <paramref name="predicate"/> holds.</summary>
    public DataStream<T> Filter(Func<T, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return Process<T>((value, context) =>
        {
            if (predicate(value))
            {
                context.Emit(value);
            }
        }, "filter");
    }

    /// <summary>Turns each element into one other element with the same event time.</summary>
    public DataStream<TOut> Map<TOut>(Func<T, TOut> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return Process<TOut>((value, context) => context.Emit(map(value)), "map");
    }

    /// <summary>Turns each element into zero or more elements with the same event time.</summary>
    public DataStream<TOut> FlatMap<TOut>(Func<T, IEnumerable<TOut>> flatMap)
    {
        ArgumentNullException.ThrowIfNull(flatMap);
        return Process<TOut>((value, context) =>
        {
            foreach (var item in flatMap(value))
            {
                context.Emit(item);
            }
        }, "flatMap");
    }

    /// <summary>
    /// The general step, as Flink's <c>ProcessFunction</c>: emits any number of elements to the
    /// main output and to side outputs named by <see cref="OutputTag{T}"/>, read with
    /// <see cref="ProcessStream{TIn, TOut}.SideOutput{TSide}"/>. The function must be deterministic.
    /// </summary>
    public ProcessStream<T, TOut> Process<TOut>(Action<T, ProcessContext<TOut>> function) => Process(function, "process");

    /// <summary>Partitions the stream by key, for windows. Keys are stored in checkpoints with <paramref name="keySerializer"/>.</summary>
    public KeyedStream<TKey, T> KeyBy<TKey>(Func<T, TKey> keySelector, IStateSerializer<TKey> keySerializer, IComparer<TKey>? keyOrder = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        ArgumentNullException.ThrowIfNull(keySerializer);
        return new KeyedStream<TKey, T>(this, keySelector, keySerializer, keyOrder);
    }

    /// <summary>Partitions the stream by a string key (ordinal order).</summary>
    public KeyedStream<string, T> KeyBy(Func<T, string> keySelector) => KeyBy(keySelector, StateSerializers.String);

    /// <summary>
    /// Writes every element to <paramref name="topic"/>. Give a <paramref name="key"/> that names the
    /// element deterministically (for window results: window identity and key, see
    /// <see cref="OutputKeys.ForWindow{TKey, TOut}"/>), so that a replay after a crash writes the
    /// same keyed records and a consumer that upserts by key sees each result once in effect.
    /// </summary>
    public void SinkTo(string topic, Func<T, byte[]?> key, Func<T, byte[]> value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        AddConsumer(new SinkNode<T>(Job, Id, topic, key, value));
    }

    internal void AddConsumer(IStreamConsumer<T> consumer) => _consumers.Add(consumer);

    /// <summary>Builds the runtime of every step that reads this stream; returns what feeds them.</summary>
    internal Action<T, long> BuildDownstream(JobBuilder builder)
    {
        var receivers = _consumers.Select(c => c.Build(builder)).ToArray();
        return receivers.Length switch
        {
            0 => static (_, _) => { },
            1 => receivers[0],
            _ => (value, timestamp) =>
            {
                foreach (var receiver in receivers)
                {
                    receiver(value, timestamp);
                }
            },
        };
    }

    private ProcessStream<T, TOut> Process<TOut>(Action<T, ProcessContext<TOut>> function, string kind)
    {
        ArgumentNullException.ThrowIfNull(function);
        var node = new ProcessStream<T, TOut>(Job, Id, kind, function);
        AddConsumer(node);
        return node;
    }
}

/// <summary>A step that reads a stream of <typeparamref name="T"/>.</summary>
internal interface IStreamConsumer<in T>
{
    /// <summary>Creates the step's runtime; returns the function that takes one element and its event time.</summary>
    Action<T, long> Build(JobBuilder builder);
}

internal sealed class SourceNode<T>(StreamJob job, IReadOnlyList<string> topics, Func<SourceRecord, T> deserializer, Func<T, SourceRecord, long> timestamp)
    : DataStream<T>(job), ISourceNode
{
    public IReadOnlyList<string> Topics { get; } = topics;

    internal override string Describe() => $"source({string.Join(",", Topics)})";

    public void Build(JobBuilder builder)
    {
        var downstream = BuildDownstream(builder);
        var record = (SourceRecord r) =>
        {
            var value = deserializer(r);
            var time = timestamp(value, r);
            builder.Instance.Observe(r, time);
            downstream(value, time);
        };
        foreach (var topic in Topics)
        {
            builder.Sources[topic] = record;
        }
    }
}

/// <summary>A stream made by <see cref="DataStream{T}.Process{TOut}(Action{T, ProcessContext{TOut}})"/>; its side outputs are streams too.</summary>
public sealed class ProcessStream<TIn, TOut> : DataStream<TOut>, IStreamConsumer<TIn>
{
    private readonly int _parent;
    private readonly string _kind;
    private readonly Action<TIn, ProcessContext<TOut>> _function;
    private readonly Dictionary<string, ISideOutput> _sides = new(StringComparer.Ordinal);

    internal ProcessStream(StreamJob job, int parent, string kind, Action<TIn, ProcessContext<TOut>> function) : base(job)
    {
        _parent = parent;
        _kind = kind;
        _function = function;
    }

    /// <summary>The elements emitted to <paramref name="tag"/>, with the event time they were emitted with.</summary>
    public DataStream<TSide> SideOutput<TSide>(OutputTag<TSide> tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (_sides.TryGetValue(tag.Id, out var existing))
        {
            return existing as DataStream<TSide>
                ?? throw new ArgumentException($"Side output '{tag.Id}' was read with another element type.", nameof(tag));
        }
        var side = new SideOutputNode<TSide>(Job, Id, tag.Id);
        _sides[tag.Id] = side;
        return side;
    }

    internal override string Describe() => $"{_kind}(from {_parent})";

    Action<TIn, long> IStreamConsumer<TIn>.Build(JobBuilder builder)
    {
        var main = BuildDownstream(builder);
        var sides = _sides.ToDictionary(s => s.Key, s => s.Value.Build(builder), StringComparer.Ordinal);
        var context = new ProcessContext<TOut>(main, sides);
        return (value, timestamp) =>
        {
            context.Timestamp = timestamp;
            _function(value, context);
        };
    }
}

internal interface ISideOutput
{
    Delegate Build(JobBuilder builder);
}

internal sealed class SideOutputNode<T>(StreamJob job, int parent, string tag) : DataStream<T>(job), ISideOutput
{
    internal override string Describe() => $"side({parent},{tag})";

    public Delegate Build(JobBuilder builder) => BuildDownstream(builder);
}

internal sealed class SinkNode<T>(StreamJob job, int parent, string topic, Func<T, byte[]?> key, Func<T, byte[]> value) : StreamNode(job), IStreamConsumer<T>
{
    internal override string Describe() => $"sink({parent}->{topic})";

    public Action<T, long> Build(JobBuilder builder)
    {
        // Each sink writes in exactly one stage: before the windows in stage 1, after them in stage 2.
        var active = builder.Plan.Stage switch
        {
            JobStage.Route => builder.WindowDepth == 0,
            JobStage.Windows => builder.WindowDepth > 0,
            _ => true,
        };
        if (!active)
        {
            return static (_, _) => { };
        }
        builder.SinkTopics.Add(topic);
        return (element, timestamp) => builder.Output.Write(new OutputRecord(topic, key(element), value(element), timestamp));
    }
}
