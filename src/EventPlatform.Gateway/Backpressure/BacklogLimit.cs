namespace EventPlatform.Gateway.Backpressure;

/// <summary>How far one consumer group is behind on one partition, against how far it may be.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Group">The consumer group.</param>
/// <param name="Lag">Records written that the group has not committed.</param>
/// <param name="Limit">The most it may lag by before publishes are refused.</param>
public readonly record struct PartitionBacklog(int Partition, string Group, long Lag, long Limit)
{
    public bool Exceeded => Lag > Limit;
}

/// <summary>
/// The guard's arithmetic, pure: how many records a partition holds before the broker drops the
/// oldest, and whether a group's lag leaves enough of that room.
/// </summary>
public static class BacklogLimit
{
    /// <summary>
    /// Records a partition can hold: exactly <c>high - low</c> once the broker has dropped any
    /// (low above 0); before that, the retained bytes over the average record size; capped by the
    /// retained batches (every record is at most one batch). <see cref="long.MaxValue"/> when unknown.
    /// </summary>
    public static long Capacity(long low, long high, DownstreamGuardOptions options, double recordBytes)
    {
        ArgumentNullException.ThrowIfNull(options);
        var capacity = long.MaxValue;
        if (low > 0)
        {
            capacity = Math.Max(1, high - low);
        }
        else if (options.RetainedBytesPerPartition is { } bytes)
        {
            capacity = (long)Math.Max(1, Math.Floor(bytes / Math.Max(1.0, recordBytes)));
        }

        if (options.RetainedBatchesPerPartition is { } batches)
        {
            capacity = Math.Min(capacity, batches);
        }

        return capacity;
    }

    /// <summary>The most a group may lag by on a partition of this capacity.</summary>
    public static long Limit(long capacity, DownstreamGuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limit = capacity == long.MaxValue ? long.MaxValue : (long)Math.Floor(capacity * options.MaxLagShare);
        return Math.Min(limit, options.MaxLagRecords ?? long.MaxValue);
    }

    /// <summary>
    /// A group's lag: records from its committed offset to the high watermark. A group with no
    /// committed offset there will read from the oldest record held, so it lags by all of them; a
    /// committed offset below the low watermark counts in full (those records are gone already).
    /// </summary>
    public static long Lag(long low, long high, long? committed) => Math.Max(0, high - (committed ?? low));

    /// <summary>The partition and group furthest over its limit, or null when none is over.</summary>
    public static PartitionBacklog? WorstExceeded(IEnumerable<PartitionBacklog> backlogs)
    {
        ArgumentNullException.ThrowIfNull(backlogs);
        PartitionBacklog? worst = null;
        foreach (var b in backlogs)
        {
            if (b.Exceeded && (worst is null || b.Lag - b.Limit > worst.Value.Lag - worst.Value.Limit))
            {
                worst = b;
            }
        }

        return worst;
    }
}
