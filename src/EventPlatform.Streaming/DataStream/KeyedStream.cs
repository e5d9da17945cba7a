using System.Text;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.DataStream;

/// <summary>A stream partitioned by key, ready for windows; several windows may read one keyed stream.</summary>
public sealed class KeyedStream<TKey, T>
    where TKey : notnull
{
    internal KeyedStream(DataStream<T> stream, Func<T, TKey> keySelector, IStateSerializer<TKey> keySerializer, IComparer<TKey>? keyOrder)
    {
        Stream = stream;
        KeySelector = keySelector;
        KeySerializer = keySerializer;
        KeyOrder = keyOrder;
    }

    internal DataStream<T> Stream { get; }

    internal Func<T, TKey> KeySelector { get; }

    internal IStateSerializer<TKey> KeySerializer { get; }

    internal IComparer<TKey>? KeyOrder { get; }

    /// <summary>Event-time windows of <paramref name="definition"/> over each key.</summary>
    public WindowedStream<TKey, T> Window(WindowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new WindowedStream<TKey, T>(this, definition);
    }
}

/// <summary>A keyed stream cut into windows; <see cref="Aggregate{TAcc, TOut}"/> makes it a stream of results.</summary>
public sealed class WindowedStream<TKey, T>
    where TKey : notnull
{
    private readonly KeyedStream<TKey, T> _keyed;
    private readonly WindowDefinition _definition;

    internal WindowedStream(KeyedStream<TKey, T> keyed, WindowDefinition definition)
    {
        _keyed = keyed;
        _definition = definition;
    }

    /// <summary>
    /// Aggregates each key's windows incrementally; the result stream carries one element per firing
    /// (with event time = the window's last timestamp). Accumulators are stored in checkpoints with
    /// <paramref name="accumulatorSerializer"/>.
    /// </summary>
    public WindowAggregateStream<TKey, T, TAcc, TOut> Aggregate<TAcc, TOut>(IAggregateFunction<T, TAcc, TOut> aggregate, IStateSerializer<TAcc> accumulatorSerializer)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        ArgumentNullException.ThrowIfNull(accumulatorSerializer);
        var node = new WindowAggregateStream<TKey, T, TAcc, TOut>(_keyed, _definition, aggregate, accumulatorSerializer);
        _keyed.Stream.AddConsumer(node);
        return node;
    }
}

/// <summary>
/// The results of one keyed window aggregation. <see cref="LateRecords"/> is its late side output
/// (records the policy sends aside), a stream that can be sunk like any other.
/// </summary>
public sealed class WindowAggregateStream<TKey, T, TAcc, TOut> : DataStream<WindowResult<TKey, TOut>>, IStreamConsumer<T>, IKeyedWindowNode
    where TKey : notnull
{
    private readonly KeyedStream<TKey, T> _keyed;
    private readonly WindowDefinition _definition;
    private readonly IAggregateFunction<T, TAcc, TOut> _aggregate;
    private readonly IStateSerializer<TAcc> _accumulators;
    private readonly LateStream _late;

    internal WindowAggregateStream(KeyedStream<TKey, T> keyed, WindowDefinition definition, IAggregateFunction<T, TAcc, TOut> aggregate, IStateSerializer<TAcc> accumulators)
        : base(keyed.Stream.Job)
    {
        _keyed = keyed;
        _definition = definition;
        _aggregate = aggregate;
        _accumulators = accumulators;
        _late = new LateStream(Job, Id);
    }

    /// <summary>Late records of this aggregation, with event time = the record's.</summary>
    public DataStream<LateRecord<TKey, T>> LateRecords => _late;

    internal override string Describe()
    {
        var a = _definition.Assigner;
        var p = _definition.LatePolicy;
        return $"window(from {_keyed.Stream.Id},{a.Kind},{a.Size},{a.Slide},{a.Offset},{p.Kind},{p.AllowedLatenessMilliseconds})";
    }

    Action<T, long> IStreamConsumer<T>.Build(JobBuilder builder)
    {
        var plan = builder.Plan;
        var selector = _keyed.KeySelector;
        if (plan.Stage != JobStage.Whole && builder.WindowDepth > 0)
        {
            throw new NotSupportedException(
                $"Job '{Job.Name}': a window that reads the results of another window would need a second repartition topic; scale-out supports one level of keyed windows.");
        }
        if (plan.Stage == JobStage.Route)
        {
            var router = builder.KeyRoute(_keyed);
            if (plan.Local is not { } local)
            {
                return (value, _) => builder.Routes.Add(router.PartitionOf(value, out TKey _));
            }
            // The window task's entry, looked up once per task instance (tasks are replaced on rebalance).
            var tasks = new JobInstance?[plan.PartitionCount];
            var inputs = new Action<TKey, long, T>?[plan.PartitionCount];
            return (value, timestamp) =>
            {
                var partition = router.PartitionOf(value, out TKey key);
                builder.Routes.Add(partition);
                if (local.Target(partition) is { } task)
                {
                    if (!ReferenceEquals(tasks[partition], task))
                    {
                        inputs[partition] = (Action<TKey, long, T>)task.LocalInput(Id);
                        tasks[partition] = task;
                    }
                    inputs[partition]!(key, timestamp, value);
                }
            };
        }

        builder.WindowDepth++;
        var output = new Output(BuildDownstream(builder), _late.BuildDownstream(builder));
        builder.WindowDepth--;
        var op = new KeyedWindowOperator<TKey, T, TAcc, TOut>(_definition, _aggregate, output, _keyed.KeyOrder);
        builder.Operators.Add(new OperatorRuntime(
            Id,
            op.AdvanceWatermark,
            writer => op.WriteSnapshot(writer, _keyed.KeySerializer, _accumulators),
            reader => op.RestoreSnapshot(reader, _keyed.KeySerializer, _accumulators),
            () => op.WindowCount,
            () => op.KeyCount));
        var instrumentation = builder.Instrumentation;
        if (instrumentation is not null)
        {
            op.LateObserver = instrumentation.LateRecord;
        }
        if (plan.Stage == JobStage.Windows)
        {
            builder.LocalInputs[Id] = (Action<TKey, long, T>)((key, timestamp, value) =>
            {
                instrumentation?.WindowInput(Reference(value), timestamp);
                op.Process(key, timestamp, value);
            });
            // A routed record can carry elements of several keys; this partition takes only its own.
            var owner = builder.KeyRoute(_keyed);
            return (value, timestamp) =>
            {
                if (owner.PartitionOf(value, out var key) == plan.Partition)
                {
                    instrumentation?.WindowInput(Reference(value), timestamp);
                    op.Process(key, timestamp, value);
                }
            };
        }
        if (instrumentation is not null)
        {
            return (value, timestamp) =>
            {
                instrumentation.WindowInput(Reference(value), timestamp);
                op.Process(selector(value), timestamp, value);
            };
        }
        return (value, timestamp) => op.Process(selector(value), timestamp, value);
    }

    // Value types are not boxed for the instrumentation's same-element test.
    private static object? Reference(T value) => typeof(T).IsValueType ? null : value;

    private sealed class Output(Action<WindowResult<TKey, TOut>, long> results, Action<LateRecord<TKey, T>, long> late) : IWindowOutput<TKey, T, TOut>
    {
        public void Emit(in WindowResult<TKey, TOut> result) => results(result, result.Window.Window.MaxTimestamp);

        public void EmitLate(in LateRecord<TKey, T> record) => late(record, record.Timestamp);
    }

    private sealed class LateStream(StreamJob job, int parent) : DataStream<LateRecord<TKey, T>>(job)
    {
        internal override string Describe() => $"late({parent})";
    }
}

/// <summary>Marks the nodes that hold keyed state: a job with one runs in two stages when scaled out.</summary>
internal interface IKeyedWindowNode;

/// <summary>Deterministic output keys, so that a replay writes records with the same keys.</summary>
public static class OutputKeys
{
    /// <summary>
    /// <c>key|window</c> in UTF-8, e.g. <c>user-1|tumbling(60000ms)[0,60000)</c>: one key per
    /// (key, window of one definition), the identity a downstream upsert should use.
    /// </summary>
    public static byte[] ForWindow<TKey, TOut>(WindowResult<TKey, TOut> result) =>
        Encoding.UTF8.GetBytes($"{result.Key}|{result.Window}");
}
