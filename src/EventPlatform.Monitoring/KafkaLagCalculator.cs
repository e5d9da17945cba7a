namespace EventPlatform.Monitoring;

/// <summary>
/// Turns the cluster readings of successive polls into the exported figures: lags in messages and
/// seconds, rates over the rate window, the catch-up estimate and the DLQ depth. Pure: no I/O, no clock.
/// </summary>
/// <remarks>
/// Rates compare the newest reading with the oldest one kept inside the rate window (with fewer
/// readings, over the time there is). A partition counts towards a rate only if both readings have
/// it, and offsets that went back (a recreated topic, a group reset) count as no progress.
/// Not thread-safe: one poll loop owns it.
/// </remarks>
public sealed class KafkaLagCalculator(TimeSpan rateWindow, string dlqTopic, IReadOnlyDictionary<string, string>? pipelineStages = null)
{
    private readonly Queue<ClusterReading> _history = new();

    /// <summary>Adds <paramref name="reading"/> and returns the figures as of it.</summary>
    public ExporterSnapshot Add(ClusterReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        while (_history.Count > 0 && reading.At - _history.Peek().At > rateWindow)
        {
            _history.Dequeue();
        }

        var baseline = _history.Count > 0 ? _history.Peek() : null;
        _history.Enqueue(reading);
        var seconds = baseline is null ? 0 : (reading.At - baseline.At).TotalSeconds;
        var hasRate = baseline is not null && seconds > 0;

        var partitions = reading.Partitions
            .OrderBy(p => p.Key.Topic, StringComparer.Ordinal).ThenBy(p => p.Key.Partition)
            .Select(p => new PartitionFigures(p.Key, p.Value))
            .ToList();

        var topics = reading.Topics.OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new TopicFigures(t.Key, t.Value, hasRate
                ? Growth(reading.Partitions.Where(p => p.Key.Topic == t.Key).Select(p => p.Key), k => Current(reading, k), k => Current(baseline!, k)) / seconds
                : null))
            .ToList();

        var groupPartitions = new List<GroupPartitionFigures>();
        var groups = new List<GroupFigures>();
        foreach (var (group, committed) in reading.CommittedOffsets.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            long groupLag = 0;
            var measured = new List<PartitionKey>();
            foreach (var (partition, offset) in committed.OrderBy(c => c.Key.Topic, StringComparer.Ordinal).ThenBy(c => c.Key.Partition))
            {
                if (!reading.Partitions.TryGetValue(partition, out var offsets))
                {
                    continue;
                }

                var lag = Math.Max(0, offsets.Current - offset);
                groupLag += lag;
                measured.Add(partition);
                groupPartitions.Add(new GroupPartitionFigures(group, partition, offset, lag, LagSeconds(reading, partition, offset, offsets)));
            }

            double? consumed = null;
            double? catchUp = null;
            if (hasRate && baseline!.CommittedOffsets.TryGetValue(group, out var before))
            {
                consumed = Growth(measured, k => committed.GetValueOrDefault(k, -1), k => before.GetValueOrDefault(k, -1)) / seconds;
                var produced = Growth(measured, k => Current(reading, k), k => Current(baseline, k)) / seconds;
                catchUp = CatchUpSeconds(groupLag, consumed.Value, produced);
            }

            groups.Add(new GroupFigures(group, groupLag, consumed, catchUp));
        }

        var dlq = reading.Topics.ContainsKey(dlqTopic)
            ? new DlqFigures(dlqTopic, reading.Partitions.Where(p => p.Key.Topic == dlqTopic).Sum(p => p.Value.Retained))
            : null;
        return new ExporterSnapshot(reading.At, reading.Brokers, topics, partitions, groupPartitions, groups, dlq)
        {
            Stages = Stages(groupPartitions, groups),
        };
    }

    /// <summary>
    /// Seconds until the lag is gone if the group keeps consuming, and producers keep writing to its
    /// partitions, at the recent rates: the lag shrinks by (consumed − produced) per second.
    /// 0 when caught up; +Inf when it does not shrink (not consuming, or not faster than the producers).
    /// </summary>
    public static double CatchUpSeconds(long lag, double consumedPerSecond, double producedPerSecond)
    {
        if (lag <= 0)
        {
            return 0;
        }

        var shrinking = consumedPerSecond - producedPerSecond;
        return shrinking > 0 ? lag / shrinking : double.PositiveInfinity;
    }

    private static double? LagSeconds(ClusterReading reading, PartitionKey partition, long committed, PartitionOffsets offsets)
    {
        if (ClusterReading.OldestUnconsumedOffset(committed, offsets) is not { } oldest
            || reading.NothingToRead?.Contains((partition, oldest)) == true)
        {
            return 0;
        }

        return reading.RecordTimestamps.TryGetValue((partition, oldest), out var timestamp)
            ? Math.Max(0, (reading.At - timestamp).TotalSeconds)
            : null;
    }

    /// <summary>
    /// Each configured stage whose group has committed: its lag in time is that of its most-behind
    /// partition, since the stage is as late as the oldest event it has not yet moved on.
    /// </summary>
    private List<StageFigures> Stages(List<GroupPartitionFigures> groupPartitions, List<GroupFigures> groups)
    {
        var stages = new List<StageFigures>();
        foreach (var (stage, group) in (pipelineStages ?? new Dictionary<string, string>()).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (groups.Find(g => g.Group == group) is not { } figures)
            {
                continue;
            }

            // Under load a partition's oldest unconsumed record may not have been fetched yet this
            // poll: the stage is then measured on the partitions that were, and unknown only when none was.
            var known = groupPartitions.Where(p => p.Group == group && p.LagSeconds is not null).Select(p => p.LagSeconds!.Value).ToList();
            double? lagSeconds = known.Count > 0 ? known.Max() : figures.Lag == 0 ? 0 : null;
            stages.Add(new StageFigures(stage, group, lagSeconds, figures.Lag, figures.CatchUpSeconds));
        }

        return stages;
    }

    private static long Current(ClusterReading reading, PartitionKey partition) =>
        reading.Partitions.TryGetValue(partition, out var offsets) ? offsets.Current : -1;

    /// <summary>Sum over the partitions present in both readings of how far the offset moved forward.</summary>
    private static double Growth(IEnumerable<PartitionKey> partitions, Func<PartitionKey, long> now, Func<PartitionKey, long> before)
    {
        long total = 0;
        foreach (var partition in partitions)
        {
            var (n, b) = (now(partition), before(partition));
            if (n >= 0 && b >= 0 && n > b)
            {
                total += n - b;
            }
        }

        return total;
    }
}
