namespace EventPlatform.Monitoring.Tests;

/// <summary>The lag arithmetic on readings written by hand: rates, the catch-up estimate, time lag, the DLQ depth.</summary>
public sealed class KafkaLagCalculatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);
    private static readonly PartitionKey P0 = new("events.clickstream", 0);
    private static readonly PartitionKey P1 = new("events.clickstream", 1);

    private static ClusterReading Reading(
        TimeSpan at,
        (PartitionKey Partition, long Oldest, long Current)[] partitions,
        (string Group, PartitionKey Partition, long Offset)[] committed,
        ((PartitionKey, long), DateTimeOffset)[]? timestamps = null) => new(
            T0 + at,
            3,
            partitions.GroupBy(p => p.Partition.Topic).ToDictionary(g => g.Key, g => g.Count()),
            partitions.ToDictionary(p => p.Partition, p => new PartitionOffsets(p.Oldest, p.Current)),
            committed.GroupBy(c => c.Group).ToDictionary(g => g.Key, g => (IReadOnlyDictionary<PartitionKey, long>)g.ToDictionary(c => c.Partition, c => c.Offset)),
            (timestamps ?? []).ToDictionary(t => t.Item1, t => t.Item2));

    [Fact]
    public void Catch_up_is_the_lag_over_how_fast_it_shrinks_consumption_minus_production()
    {
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq");
        calculator.Add(Reading(TimeSpan.Zero, [(P0, 0, 1000)], [("processor", P0, 0)]));

        // 60 s later: 600 consumed (10/s), 200 produced (3.33/s): 600 left shrink by 6.67/s.
        var figures = calculator.Add(Reading(TimeSpan.FromSeconds(60), [(P0, 0, 1200)], [("processor", P0, 600)])).Groups.Single();

        Assert.Equal(600, figures.Lag);
        Assert.Equal(10, figures.ConsumedPerSecond!.Value, precision: 9);
        Assert.Equal(600 / (10 - (200 / 60.0)), figures.CatchUpSeconds!.Value, precision: 9);
    }

    [Fact]
    public void Catch_up_is_infinite_when_the_group_does_not_consume_or_not_faster_than_producers_write()
    {
        Assert.Equal(double.PositiveInfinity, KafkaLagCalculator.CatchUpSeconds(500, 0, 0));
        Assert.Equal(double.PositiveInfinity, KafkaLagCalculator.CatchUpSeconds(500, 10, 10));
        Assert.Equal(double.PositiveInfinity, KafkaLagCalculator.CatchUpSeconds(500, 10, 12));
        Assert.Equal(0, KafkaLagCalculator.CatchUpSeconds(0, 0, 50));
        Assert.Equal(50, KafkaLagCalculator.CatchUpSeconds(500, 10, 0));
    }

    [Fact]
    public void The_first_reading_has_no_rates_and_no_estimate()
    {
        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(Reading(TimeSpan.Zero, [(P0, 0, 10)], [("processor", P0, 5)]));

        Assert.Null(snapshot.Topics.Single().MessagesInPerSecond);
        Assert.Null(snapshot.Groups.Single().CatchUpSeconds);
        Assert.Equal(5, snapshot.Groups.Single().Lag);
    }

    [Fact]
    public void Rates_are_taken_over_the_window_not_since_the_start()
    {
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq");
        calculator.Add(Reading(TimeSpan.Zero, [(P0, 0, 0)], []));
        calculator.Add(Reading(TimeSpan.FromSeconds(30), [(P0, 0, 3000)], []));
        calculator.Add(Reading(TimeSpan.FromSeconds(60), [(P0, 0, 3000)], []));

        // At 90 s the reading at 0 s is out of the window: the base is 30 s, and nothing came since.
        var snapshot = calculator.Add(Reading(TimeSpan.FromSeconds(90), [(P0, 0, 3000)], []));

        Assert.Equal(0, snapshot.Topics.Single().MessagesInPerSecond);
    }

    [Fact]
    public void Offsets_that_went_back_count_as_no_progress_and_partitions_new_to_a_group_are_not_in_its_rate()
    {
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq");
        calculator.Add(Reading(TimeSpan.Zero, [(P0, 0, 100), (P1, 0, 100)], [("processor", P0, 90)]));

        // The group was reset to 10 on P0 and started on P1 at 100: neither is consumption.
        var figures = calculator.Add(Reading(TimeSpan.FromSeconds(10), [(P0, 0, 100), (P1, 0, 100)], [("processor", P0, 10), ("processor", P1, 100)])).Groups.Single();

        Assert.Equal(0, figures.ConsumedPerSecond);
        Assert.Equal(90, figures.Lag);
        Assert.Equal(double.PositiveInfinity, figures.CatchUpSeconds);
    }

    [Fact]
    public void Time_lag_is_the_age_of_the_record_at_the_committed_offset_or_at_the_oldest_retained_one()
    {
        var written = T0 - TimeSpan.FromSeconds(42);
        var retainedFrom = T0 - TimeSpan.FromSeconds(30);
        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(Reading(
            TimeSpan.Zero,
            [(P0, 0, 10), (P1, 50, 60)],
            [("processor", P0, 4), ("processor", P1, 20), ("caught-up", P0, 10)],
            [((P0, 4), written), ((P1, 50), retainedFrom)]));

        Assert.Equal(42, snapshot.GroupPartitions.Single(g => g.Group == "processor" && g.Partition == P0).LagSeconds);
        // Retention dropped offsets 20..49: the oldest unconsumed record that exists is at 50.
        var behindRetention = snapshot.GroupPartitions.Single(g => g.Group == "processor" && g.Partition == P1);
        Assert.Equal(30, behindRetention.LagSeconds);
        Assert.Equal(40, behindRetention.Lag);
        Assert.Equal(0, snapshot.GroupPartitions.Single(g => g.Group == "caught-up").LagSeconds);
    }

    [Fact]
    public void A_record_written_after_the_reading_gives_a_time_lag_of_zero_not_a_negative_one()
    {
        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(Reading(
            TimeSpan.Zero, [(P0, 0, 10)], [("processor", P0, 4)], [((P0, 4), T0 + TimeSpan.FromSeconds(5))]));

        Assert.Equal(0, snapshot.GroupPartitions.Single().LagSeconds);
    }

    [Fact]
    public void Dlq_depth_is_absent_when_there_is_no_dead_letter_topic()
    {
        var snapshot = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq").Add(Reading(TimeSpan.Zero, [(P0, 0, 10)], []));

        Assert.Null(snapshot.Dlq);
    }

    [Fact]
    public void A_pipeline_stage_is_as_late_as_its_most_behind_partition_and_catches_up_as_its_group()
    {
        var stages = new Dictionary<string, string> { ["processor"] = "default-job", ["sink"] = "connect-eventplatform-sink" };
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq", stages);
        calculator.Add(Reading(TimeSpan.Zero, [(P0, 0, 100), (P1, 0, 100)], [("default-job", P0, 0), ("default-job", P1, 0), ("connect-eventplatform-sink", P0, 100)]));

        // 10 s later the processor reads P0 at 50 (written at T0+2 s) and P1 at 90 (T0+8 s); P1's
        // next record is newer, so the stage is 8 s late, as P0 is.
        var snapshot = calculator.Add(Reading(
            TimeSpan.FromSeconds(10),
            [(P0, 0, 100), (P1, 0, 100)],
            [("default-job", P0, 50), ("default-job", P1, 90), ("connect-eventplatform-sink", P0, 100)],
            [((P0, 50), T0 + TimeSpan.FromSeconds(2)), ((P1, 90), T0 + TimeSpan.FromSeconds(8))]));

        var processor = snapshot.Stages.Single(s => s.Stage == "processor");
        Assert.Equal("default-job", processor.Group);
        Assert.Equal(8, processor.LagSeconds!.Value, precision: 9);
        Assert.Equal(60, processor.Lag);
        // 140 consumed in 10 s, nothing produced: 60 left at 14/s.
        Assert.Equal(60 / 14.0, processor.CatchUpSeconds!.Value, precision: 9);
        var sink = snapshot.Stages.Single(s => s.Stage == "sink");
        Assert.Equal(0, sink.LagSeconds);
        Assert.Equal(0, sink.CatchUpSeconds);
    }

    [Fact]
    public void A_pipeline_stage_whose_group_never_committed_is_not_reported()
    {
        var calculator = new KafkaLagCalculator(TimeSpan.FromMinutes(1), "events.dlq", new Dictionary<string, string> { ["sink"] = "connect-x" });

        Assert.Empty(calculator.Add(Reading(TimeSpan.Zero, [(P0, 0, 10)], [("default-job", P0, 5)])).Stages);
    }
}
