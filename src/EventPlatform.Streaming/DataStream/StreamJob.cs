using System.Security.Cryptography;
using System.Text;

namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// A job's graph: sources, transformations, keyed windows and sinks, built fluently as Flink's
/// DataStream API. The graph is a pure description (delegates and definitions); a runtime
/// instantiates it (<see cref="JobInstance"/>) over Kafka or over a list of records.
/// </summary>
/// <remarks>
/// <para>Example: a count per key and minute, invalid records to a dead letter topic.</para>
/// <code>
/// var job = new StreamJob("clicks-per-minute");
/// var invalid = new OutputTag&lt;SourceRecord&gt;("invalid");
/// var parsed = job.Source("clicks", r =&gt; r, (r, _) =&gt; r.Timestamp)
///     .Process&lt;SourceRecord&gt;((r, ctx) =&gt; { if (r.Key is null) ctx.Emit(invalid, r); else ctx.Emit(r); });
/// parsed.SideOutput(invalid).SinkTo("clicks.dlq", r =&gt; r.Key, r =&gt; r.Value);
/// parsed.KeyBy(r =&gt; Encoding.UTF8.GetString(r.Key!))
///     .Window(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), LateDataPolicy.Drop))
///     .Aggregate(new CountAggregate&lt;SourceRecord&gt;(), StateSerializers.Int64)
///     .SinkTo("clicks.per-minute", OutputKeys.ForWindow, r =&gt; Encoding.UTF8.GetBytes(r.Result.ToString()));
/// </code>
/// <para>The <see cref="Fingerprint"/> covers the job's name and version and the graph's shape
/// (topics, window definitions, tags, sinks), not the code of its delegates: change
/// <see cref="Version"/> when a function changes in a way that makes old state wrong.</para>
/// <para>Build a job on one thread, then run it; it is not changed by running.</para>
/// </remarks>
public sealed class StreamJob
{
    private readonly List<StreamNode> _nodes = [];
    private readonly Dictionary<string, StreamNode> _sourceByTopic = new(StringComparer.Ordinal);

    /// <summary>Creates an empty job.</summary>
    /// <param name="name">The job's name: it names its checkpoints and is the default consumer group.</param>
    /// <param name="version">Bump it when a function's meaning changes, so that old checkpoints are not applied.</param>
    public StreamJob(string name, string version = "1")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        Name = name;
        Version = version;
    }

    /// <summary>The job's name.</summary>
    public string Name { get; }

    /// <summary>The job's version, part of its fingerprint.</summary>
    public string Version { get; }

    /// <summary>The source topics, in ordinal order.</summary>
    public IReadOnlyList<string> SourceTopics => [.. _sourceByTopic.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Whether the job has keyed windows (keyed state), which scale-out splits by key.</summary>
    internal bool HasKeyedWindows => _nodes.Any(n => n is IKeyedWindowNode);

    /// <summary>The nodes in the order they were added.</summary>
    internal IReadOnlyList<StreamNode> Nodes => _nodes;

    /// <summary>
    /// A hex SHA-256 of the name, the version and every node's description: two jobs with the same
    /// fingerprint can restore each other's checkpoints.
    /// </summary>
    public string Fingerprint
    {
        get
        {
            var text = new StringBuilder().Append(Name).Append('\n').Append(Version).Append('\n');
            foreach (var node in _nodes)
            {
                text.Append(node.Id).Append(' ').Append(node.Describe()).Append('\n');
            }
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    /// <summary>
    /// A stream of the records of <paramref name="topics"/>: each is turned into an element by
    /// <paramref name="deserializer"/>, and its event time is taken by <paramref name="timestamp"/>
    /// (epoch milliseconds; give the record's <see cref="SourceRecord.Timestamp"/> when elements carry none).
    /// A topic can belong to one source only.
    /// </summary>
    public DataStream<T> Source<T>(IReadOnlyList<string> topics, Func<SourceRecord, T> deserializer, Func<T, SourceRecord, long> timestamp)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(deserializer);
        ArgumentNullException.ThrowIfNull(timestamp);
        if (topics.Count == 0)
        {
            throw new ArgumentException("A source needs at least one topic.", nameof(topics));
        }
        var node = new SourceNode<T>(this, [.. topics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], deserializer, timestamp);
        foreach (var topic in node.Topics)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(topic, nameof(topics));
            if (!_sourceByTopic.TryAdd(topic, node))
            {
                throw new ArgumentException($"Topic '{topic}' is read by another source of this job.", nameof(topics));
            }
        }
        return node;
    }

    /// <inheritdoc cref="Source{T}(IReadOnlyList{string}, Func{SourceRecord, T}, Func{T, SourceRecord, long})"/>
    public DataStream<T> Source<T>(string topic, Func<SourceRecord, T> deserializer, Func<T, SourceRecord, long> timestamp) =>
        Source([topic], deserializer, timestamp);

    internal int Add(StreamNode node)
    {
        _nodes.Add(node);
        return _nodes.Count;
    }
}

/// <summary>One step of a job's graph.</summary>
public abstract class StreamNode
{
    private protected StreamNode(StreamJob job)
    {
        Job = job;
        Id = job.Add(this);
    }

    /// <summary>The job this node belongs to.</summary>
    public StreamJob Job { get; }

    /// <summary>The node's number within its job, from 1 in the order nodes were added.</summary>
    public int Id { get; }

    /// <summary>What the node does, without its delegates: part of the job's fingerprint.</summary>
    internal abstract string Describe();
}
