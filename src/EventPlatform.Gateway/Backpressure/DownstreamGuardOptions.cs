using System.ComponentModel.DataAnnotations;

namespace EventPlatform.Gateway.Backpressure;

/// <summary>
/// Admission control for the consumers downstream of the gateway (the sink, the processor): while
/// one of them is so far behind on a topic that the broker may drop records it has not read, new
/// events for that topic are refused with 503 and <c>Retry-After</c> instead of being accepted and
/// then lost. Bound from <c>Gateway:DownstreamGuard</c>.
/// </summary>
/// <remarks>
/// Off unless consumer groups are named: the standalone <c>gateway</c> cannot know who reads its
/// topics. <c>up</c> names its processor's and sink's groups, and on the embedded broker (which keeps
/// only ~5 MB per partition) also the retention, so that the guard acts before the broker drops.
/// </remarks>
public sealed class DownstreamGuardOptions
{
    public const string SectionName = "Gateway:DownstreamGuard";

    /// <summary>The consumer groups that must read every event; a publish is refused while any of them is too far behind.</summary>
    public List<string> ConsumerGroups { get; set; } = [];

    /// <summary>How often the offsets are read (two ListOffsets and one OffsetFetch per group per round).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The share of a partition's capacity a group may lag by before publishes to its topic are
    /// refused. The rest is room for what is admitted between two readings and for records larger
    /// than the estimate (at 200 ms, a quarter of 5 MiB per partition is more than the gateway can
    /// write in one interval).
    /// </summary>
    [Range(0.01, 1.0)]
    public double MaxLagShare { get; set; } = 0.75;

    /// <summary>
    /// Bytes a partition keeps before the broker drops its oldest records, when that is a size (the
    /// embedded broker: 5 MiB); unset when retention is by time, as on a default Kafka cluster. Once
    /// a partition has dropped records its capacity is known from its offsets and this is not used.
    /// </summary>
    [Range(1024L, long.MaxValue)]
    public long? RetainedBytesPerPartition { get; set; }

    /// <summary>Record batches a partition keeps at most (the embedded broker: 100,000); each record counts as one, which is never fewer.</summary>
    [Range(1L, long.MaxValue)]
    public long? RetainedBatchesPerPartition { get; set; }

    /// <summary>A plain cap on any group's lag per partition, in records, whatever the retention; unset for none.</summary>
    [Range(1L, long.MaxValue)]
    public long? MaxLagRecords { get; set; }

    /// <summary>
    /// How long readings stay valid when the cluster stops answering: after that the guard lets
    /// publishes through (the publisher meets the outage itself) rather than refuse on stale data.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Off turns the guard off even with groups named (<c>up</c> names its own).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Whether the guard runs: on, with at least one group.</summary>
    public bool Active => Enabled && ConsumerGroups.Count > 0;
}
