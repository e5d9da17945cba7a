using EventPlatform.Gateway.Backpressure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// The downstream guard's arithmetic (<see cref="BacklogLimit"/>), and the guarantee it is for:
/// Property 21, "For any large batch of events published to the platform, at least 99.9% of the
/// events should be successfully delivered to Snowflake" needs that no event a consumer has not
/// committed is dropped by the broker's retention.
/// </summary>
public sealed class DownstreamGuardProperties
{
    /// <summary>
    /// A model of one partition under a size-bounded retention (the embedded broker's): a producer
    /// admitted by the guard's latest reading, at most the guard's unreserved room of records per
    /// reading interval, and a consumer that commits at a random pace or stalls. With records never
    /// larger than the size the guard assumes, the broker never drops a record the group has not
    /// committed: the low watermark never passes the committed offset.
    /// </summary>
    [Property(MaxTest = 300)]
    [Trait("Property", "Property 21: Message delivery guarantee")]
    public Property The_broker_never_drops_what_the_group_has_not_committed(PositiveInt retainedKiB, PositiveInt recordBytes, byte sharePercent, int seed)
    {
        var options = new DownstreamGuardOptions
        {
            ConsumerGroups = ["g"],
            RetainedBytesPerPartition = 1024L * (1 + (retainedKiB.Get % 512)),
            MaxLagShare = 0.05 + (sharePercent % 90) / 100.0,
        };
        var size = 1 + recordBytes.Get % 4096;
        var random = new Random(seed);
        var retainedRecords = Math.Max(1, options.RetainedBytesPerPartition.Value / size);

        long low = 0, high = 0, committed = 0;
        for (var reading = 0; reading < 200; reading++)
        {
            // The guard's reading: the size estimate from the producer is never below the true size here.
            var estimate = size * (1 + random.NextDouble());
            var limit = BacklogLimit.Limit(BacklogLimit.Capacity(low, high, options, estimate), options);
            var admitted = !new PartitionBacklog(0, "g", BacklogLimit.Lag(low, high, committed), limit).Exceeded;

            // Until the next reading: publishes go through only if admitted, no more than the room the share leaves.
            var room = (long)Math.Floor(Math.Min(retainedRecords, BacklogLimit.Capacity(low, high, options, estimate)) * (1 - options.MaxLagShare));
            var written = admitted ? (long)(random.NextDouble() * room) : 0;
            high += written;
            low = Math.Max(low, high - retainedRecords);

            // The consumer: stalled a third of the time, else commits part of what is there.
            if (random.Next(3) > 0)
            {
                committed += (long)((high - committed) * random.NextDouble());
            }

            if (low > committed)
            {
                return false.Label($"reading {reading}: low {low} passed committed {committed} (high {high}, limit {limit}, retained {retainedRecords} records of {size} B)");
            }
        }

        return true.ToProperty();
    }

    [Property(MaxTest = 200)]
    public bool Once_records_were_dropped_the_capacity_is_what_the_partition_holds(PositiveInt low, NonNegativeInt held)
    {
        var options = new DownstreamGuardOptions { RetainedBytesPerPartition = 5 * 1024 * 1024 };
        return BacklogLimit.Capacity(low.Get, low.Get + held.Get, options, recordBytes: 10) == Math.Max(1, held.Get);
    }

    [Property(MaxTest = 200)]
    public bool The_limit_is_the_share_of_the_capacity_and_never_above_the_cap(PositiveInt capacity, byte sharePercent, PositiveInt cap)
    {
        var options = new DownstreamGuardOptions { MaxLagShare = 0.01 + (sharePercent % 100) / 100.0, MaxLagRecords = cap.Get };
        var limit = BacklogLimit.Limit(capacity.Get, options);
        return limit <= capacity.Get * options.MaxLagShare && limit <= cap.Get && limit >= Math.Min(cap.Get, (long)Math.Floor(capacity.Get * options.MaxLagShare));
    }

    [Fact]
    public void A_group_without_a_commit_lags_by_everything_held_and_one_below_the_low_watermark_by_more()
    {
        Assert.Equal(70, BacklogLimit.Lag(low: 30, high: 100, committed: null));
        Assert.Equal(90, BacklogLimit.Lag(low: 30, high: 100, committed: 10));
        Assert.Equal(0, BacklogLimit.Lag(low: 30, high: 100, committed: 100));
    }

    [Fact]
    public void Without_a_retention_size_or_a_cap_nothing_is_refused()
    {
        var options = new DownstreamGuardOptions { ConsumerGroups = ["g"] };
        Assert.Equal(long.MaxValue, BacklogLimit.Limit(BacklogLimit.Capacity(0, 1_000_000_000, options, 100), options));
    }

    [Fact]
    public void The_embedded_brokers_batch_cap_bounds_the_capacity()
    {
        var options = new DownstreamGuardOptions { RetainedBytesPerPartition = 5L * 1024 * 1024, RetainedBatchesPerPartition = 100_000 };
        Assert.Equal(100_000, BacklogLimit.Capacity(0, 10, options, recordBytes: 1));
    }

    [Fact]
    public void The_worst_exceeded_partition_is_named()
    {
        var worst = BacklogLimit.WorstExceeded([new(0, "a", 10, 20), new(1, "a", 30, 20), new(2, "b", 90, 20), new(3, "b", 20, 20)]);
        Assert.Equal(new PartitionBacklog(2, "b", 90, 20), worst);
        Assert.Null(BacklogLimit.WorstExceeded([new(0, "a", 20, 20)]));
    }
}
