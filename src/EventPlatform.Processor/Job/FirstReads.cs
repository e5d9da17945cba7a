using System.Runtime.InteropServices;
using EventPlatform.Streaming.DataStream;

namespace EventPlatform.Processor.Job;

/// <summary>
/// Tells a record this job instance reads for the first time from one it has read before: under
/// scale-out the steps before the windows run twice on a record (when it is routed, and again when
/// its routed copy comes back from the repartition topic), and it must be counted once.
/// </summary>
/// <remarks>
/// Keeps the highest offset seen per source partition: records of a partition are routed in offset
/// order, so a routed copy is never above its partition's mark on the instance that routed it, and a
/// copy routed by another instance is counted here too. A record read again after a rebalance or a
/// restore is not counted again. Not thread-safe: one job instance, on its consume thread, uses it.
/// </remarks>
public sealed class FirstReads
{
    private readonly Dictionary<(string Topic, int Partition), long> _highest = [];

    /// <summary>True the first time a record at or past its partition's highest offset so far is seen.</summary>
    public bool IsFirst(SourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ref var highest = ref CollectionsMarshal.GetValueRefOrAddDefault(_highest, (record.Topic, record.Partition), out var exists);
        if (exists && record.Offset <= highest)
        {
            return false;
        }

        highest = record.Offset;
        return true;
    }
}
