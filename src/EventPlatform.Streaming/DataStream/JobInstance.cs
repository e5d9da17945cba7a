using System.Buffers;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Time;

namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// One running copy of a <see cref="StreamJob"/>: its operators' state, its watermark tracker and
/// the functions between them. A runtime feeds it records in offset order per partition, advances
/// its watermark after a batch and on a timer, and checkpoints it with <see cref="WriteState"/>.
/// No I/O: output goes to an <see cref="IJobOutput"/>.
/// </summary>
/// <remarks>
/// <para>Determinism: for the same records and the same watermark advances, the output is the
/// same records in the same order. With several input partitions, records that are on time for
/// their own partition's watermark are on time whatever the interleaving, so window results do
/// not depend on it; processing-time idleness and records late for their own partition can.</para>
/// <para>Not thread-safe: one consume loop owns an instance.</para>
/// </remarks>
public sealed class JobInstance
{
    private const byte StateVersion = 1;
    private const int MaxOperators = 1 << 16;

    private readonly JobBuilder _builder;
    private readonly WatermarkTracker _tracker;
    private readonly Dictionary<string, int> _topicIndex;
    private readonly Dictionary<SourcePartition, long> _maxEventTime = [];

    /// <summary>Instantiates <paramref name="job"/>, writing what it emits to <paramref name="output"/>.</summary>
    public JobInstance(StreamJob job, IJobOutput output, WatermarkOptions watermarks, TimeProvider clock)
        : this(job, output, watermarks, clock, StagePlan.Whole)
    {
    }

    /// <summary>Instantiates one stage of <paramref name="job"/> (see <see cref="StagePlan"/>).</summary>
    internal JobInstance(StreamJob job, IJobOutput output, WatermarkOptions watermarks, TimeProvider clock, StagePlan plan, IJobInstrumentation? instrumentation = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(output);
        Job = job;
        _tracker = new WatermarkTracker(watermarks, clock);
        _builder = new JobBuilder(this, output, plan) { Instrumentation = instrumentation };
        foreach (var source in job.Nodes.OfType<ISourceNode>())
        {
            source.Build(_builder);
        }
        _topicIndex = job.SourceTopics.Select((topic, index) => (topic, index)).ToDictionary(t => t.topic, t => t.index, StringComparer.Ordinal);
    }

    /// <summary>The job this instance runs.</summary>
    public StreamJob Job { get; }

    /// <summary>The topics the job's sinks write to.</summary>
    public IReadOnlyCollection<string> SinkTopics => _builder.SinkTopics;

    /// <summary>The watermark last handed to the operators.</summary>
    public long Watermark { get; private set; } = EventTime.NoWatermark;

    /// <summary>Starts tracking event time of an input partition (on assignment).</summary>
    public void AddPartition(SourcePartition partition) => _tracker.AddPartition(TrackerPartition(partition));

    /// <summary>Stops tracking an input partition (on revocation).</summary>
    public void RemovePartition(SourcePartition partition) => _tracker.RemovePartition(TrackerPartition(partition));

    /// <summary>Runs one record through the job; window results wait for the watermark.</summary>
    public void Process(SourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_builder.Sources.TryGetValue(record.Topic, out var source))
        {
            throw new ArgumentException($"Topic '{record.Topic}' is not a source of job '{Job.Name}'.", nameof(record));
        }
        source(record);
    }

    /// <summary>Recomputes the watermark (processing time counts for idleness) and fires every window it completes.</summary>
    public long AdvanceWatermark() => AdvanceOperators(_tracker.CurrentWatermark());

    /// <summary>Fires every window: for the end of a bounded input (tests, backfills), never for a live stream.</summary>
    public void EndOfInput() => AdvanceOperators(EventTime.MaxTimestamp);

    /// <summary>
    /// The whole state: the watermark tracker and every window operator by node id, after a format
    /// version byte. Equal states give equal bytes.
    /// </summary>
    public byte[] WriteState()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(buffer);
        writer.WriteByte(StateVersion);
        writer.WriteBytes(Section(_tracker.WriteSnapshot));
        writer.WriteInt32(_builder.Operators.Count);
        foreach (var op in _builder.Operators)
        {
            writer.WriteInt32(op.NodeId);
            writer.WriteBytes(Section(op.Write));
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Replaces this instance's state with <paramref name="state"/> from <see cref="WriteState"/> of
    /// an instance of the same job. On <see cref="SnapshotFormatException"/> some operators may
    /// already be restored: discard this instance and start a fresh one.
    /// </summary>
    public void RestoreState(ReadOnlyMemory<byte> state)
    {
        var reader = new SnapshotReader(state);
        reader.ExpectVersion(StateVersion, "job");
        var tracker = reader.ReadBytes(int.MaxValue).ToArray();
        var count = reader.ReadCount(MaxOperators, bytesPerItem: 8);
        reader.Check(count == _builder.Operators.Count, $"it holds {count} operators where the job has {_builder.Operators.Count}");
        var sections = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            reader.Check(reader.ReadInt32() == _builder.Operators[i].NodeId, "its operators are not this job's");
            sections.Add(reader.ReadBytes(int.MaxValue).ToArray());
        }
        reader.ExpectEnd();

        Restore(tracker, _tracker.RestoreSnapshot);
        for (var i = 0; i < count; i++)
        {
            Restore(sections[i], _builder.Operators[i].Restore);
        }
        Watermark = _builder.Operators.Count == 0 ? EventTime.NoWatermark : _tracker.CurrentWatermark();
    }

    /// <summary>Windows and keys held by all window operators (for metrics; the loop's thread only).</summary>
    internal (int Windows, int Keys) StateSize()
    {
        int windows = 0, keys = 0;
        foreach (var op in _builder.Operators)
        {
            windows += op.WindowCount();
            keys += op.KeyCount();
        }
        return (windows, keys);
    }

    /// <summary>Stage 2: the entry of window node <paramref name="nodeId"/> for elements stage 1 delivers locally.</summary>
    internal Delegate LocalInput(int nodeId) => _builder.LocalInputs[nodeId];

    /// <summary>The repartition partitions the last processed records were routed to (routing stage only), ascending.</summary>
    internal RouteSet Routes => _builder.Routes;

    /// <summary>The largest event time seen per source partition (routing stage only).</summary>
    internal bool TryGetMaxEventTime(SourcePartition partition, out long timestamp) => _maxEventTime.TryGetValue(partition, out timestamp);

    /// <summary>
    /// A watermark message from the routing stage: <paramref name="partition"/> has delivered event
    /// times up to <paramref name="maxTimestamp"/>, as if its newest record had been read here.
    /// </summary>
    internal void ObserveUpstream(SourcePartition partition, long maxTimestamp) => _tracker.Observe(TrackerPartition(partition), maxTimestamp);

    internal void Observe(SourceRecord record, long timestamp)
    {
        var partition = new SourcePartition(record.Topic, record.Partition);
        _tracker.Observe(TrackerPartition(partition), timestamp);
        if (_builder.Plan.Stage == JobStage.Route && (!_maxEventTime.TryGetValue(partition, out var max) || timestamp > max))
        {
            _maxEventTime[partition] = timestamp;
        }
    }

    private long AdvanceOperators(long watermark)
    {
        if (watermark > Watermark)
        {
            Watermark = watermark;
            foreach (var op in _builder.Operators)
            {
                op.AdvanceWatermark(watermark);
            }
        }
        return Watermark;
    }

    // The tracker counts partitions by number: topic index and partition packed into one int.
    private int TrackerPartition(SourcePartition partition)
    {
        if (!_topicIndex.TryGetValue(partition.Topic, out var index))
        {
            throw new ArgumentException($"Topic '{partition.Topic}' is not a source of job '{Job.Name}'.", nameof(partition));
        }
        if (partition.Partition is < 0 or >= 1 << 20 || index >= 1 << 10)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition, "At most 1024 source topics of 2^20 partitions each.");
        }
        return (index << 20) | partition.Partition;
    }

    private static byte[] Section(Action<SnapshotWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new SnapshotWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static void Restore(byte[] section, Action<SnapshotReader> restore)
    {
        var reader = new SnapshotReader(section);
        restore(reader);
        reader.ExpectEnd();
    }
}

/// <summary>Which part of a job an instance runs.</summary>
internal enum JobStage
{
    /// <summary>The whole job (one instance reads every source partition).</summary>
    Whole,

    /// <summary>
    /// Scale-out stage 1: the steps before the keyed windows, and their sinks; each element that
    /// reaches a window is routed (its key's hash picks a repartition partition), not aggregated.
    /// </summary>
    Route,

    /// <summary>
    /// Scale-out stage 2, for one repartition partition: the steps before the windows run again on
    /// the routed source records, only elements whose key belongs to the partition reach the
    /// windows, and only the sinks after the windows write.
    /// </summary>
    Windows,
}

/// <summary>
/// The stage an instance runs, the repartition topic's partition count and (stage 2) its partition;
/// for stage 1, where its elements may go without crossing Kafka (see <see cref="ILocalWindowTasks"/>).
/// </summary>
internal sealed record StagePlan(JobStage Stage, int PartitionCount, int Partition, ILocalWindowTasks? Local = null)
{
    public static StagePlan Whole { get; } = new(JobStage.Whole, 1, 0);
}

/// <summary>What instantiating a job's graph collects: source entry points, operators, sinks.</summary>
internal sealed class JobBuilder(JobInstance instance, IJobOutput output, StagePlan plan)
{
    public JobInstance Instance { get; } = instance;

    public IJobOutput Output { get; } = output;

    public StagePlan Plan { get; } = plan;

    /// <summary>How many windows the step being built is downstream of.</summary>
    public int WindowDepth { get; set; }

    public RouteSet Routes { get; } = new();

    public Dictionary<string, Action<SourceRecord>> Sources { get; } = new(StringComparer.Ordinal);

    public List<OperatorRuntime> Operators { get; } = [];

    public HashSet<string> SinkTopics { get; } = new(StringComparer.Ordinal);

    /// <summary>Stage 2: each window node's entry for elements stage 1 delivers locally, already keyed (an <c>Action&lt;TKey, long, T&gt;</c>).</summary>
    public Dictionary<int, Delegate> LocalInputs { get; } = [];

    private Dictionary<object, object> KeyRoutes { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The key and repartition partition of a keyed stream's elements, shared by every window that
    /// reads the stream in this instance, so an element read by several windows is keyed and hashed once.
    /// </summary>
    public KeyRoute<TKey, T> KeyRoute<TKey, T>(KeyedStream<TKey, T> keyed)
        where TKey : notnull
    {
        if (!KeyRoutes.TryGetValue(keyed, out var route))
        {
            route = new KeyRoute<TKey, T>(keyed.KeySelector, new KeyPartitioner<TKey>(keyed.KeySerializer, Plan.PartitionCount));
            KeyRoutes.Add(keyed, route);
        }
        return (KeyRoute<TKey, T>)route;
    }

    /// <summary>Where window operators report what metrics need; null: nothing is measured.</summary>
    public IJobInstrumentation? Instrumentation { get; init; }
}

/// <summary>
/// Stage 2's window tasks as stage 1 of the same runtime can reach them: while one instance owns every
/// source and repartition partition, stage 1 hands each keyed element straight to the window operator
/// of the task its key hashes to, instead of writing the source record to the repartition topic.
/// </summary>
internal interface ILocalWindowTasks
{
    /// <summary>
    /// The window task that takes the record being routed for <paramref name="partition"/>; null when
    /// the record goes through Kafka (not local now) or the task has applied it already (a replay).
    /// </summary>
    JobInstance? Target(int partition);
}

/// <summary>What a runtime measures inside a job instance (on the loop's thread).</summary>
internal interface IJobInstrumentation
{
    /// <summary>
    /// An element reached a window operator; <paramref name="eventTime"/> is its event time. The windows
    /// that read one element get the same reference (null for value types): it is measured once.
    /// </summary>
    void WindowInput(object? element, long eventTime);

    /// <summary>A late (record, window) pair was handled by the window's policy.</summary>
    void LateRecord(LateOutcome outcome);
}

/// <summary>A window operator as the job instance drives it.</summary>
internal sealed record OperatorRuntime(int NodeId, Action<long> AdvanceWatermark, Action<SnapshotWriter> Write, Action<SnapshotReader> Restore, Func<int> WindowCount, Func<int> KeyCount);

/// <summary>A source step, built first.</summary>
internal interface ISourceNode
{
    void Build(JobBuilder builder);
}
