using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.State;
using System.Buffers;

namespace EventPlatform.Streaming.Tests;

public class HyperLogLogTests
{
    [Theory]
    [InlineData(10, 100)]
    [InlineData(12, 1_000)]
    [InlineData(12, 50_000)]
    [InlineData(14, 10_000)]
    [InlineData(14, 200_000)]
    public void The_estimate_is_within_three_standard_errors(int precision, int cardinality)
    {
        var sketch = new HyperLogLog(precision);
        for (var i = 0; i < cardinality; i++)
        {
            sketch.Add($"user-{i}");
            sketch.Add($"user-{i / 2}");
        }

        var error = Math.Abs(sketch.Estimate() - cardinality) / (double)cardinality;

        Assert.True(error <= 3 * sketch.StandardError, $"relative error {error:P2} exceeds 3 × {sketch.StandardError:P2}");
    }

    [Fact]
    public void The_merge_of_two_sketches_estimates_exactly_what_a_sketch_of_the_union_does()
    {
        var left = new HyperLogLog(12);
        var right = new HyperLogLog(12);
        var union = new HyperLogLog(12);
        for (var i = 0; i < 30_000; i++)
        {
            left.Add($"u{i}");
            union.Add($"u{i}");
        }
        for (var i = 20_000; i < 60_000; i++)
        {
            right.Add($"u{i}");
            union.Add($"u{i}");
        }

        left.Merge(right);

        Assert.Equal(union.Estimate(), left.Estimate());
        Assert.InRange(left.Estimate(), 60_000 * (1 - (3 * left.StandardError)), 60_000 * (1 + (3 * left.StandardError)));
    }

    [Fact]
    public void Sketches_of_different_precision_do_not_merge()
    {
        Assert.Throws<ArgumentException>(() => new HyperLogLog(10).Merge(new HyperLogLog(11)));
    }

    [Fact]
    public void The_aggregator_with_a_sketch_counts_distinct_users_approximately()
    {
        var aggregator = new EventAggregator(hyperLogLogPrecision: 12);
        var first = aggregator.CreateAccumulator();
        var second = aggregator.CreateAccumulator();
        for (var i = 0; i < 5_000; i++)
        {
            first = aggregator.Add(first, new Reading(i, $"user-{i}"));
            second = aggregator.Add(second, new Reading(null, $"user-{i + 2_500}"));
        }

        var result = aggregator.GetResult(aggregator.Merge(first, second));

        Assert.Equal(10_000, result.Count);
        Assert.InRange(result.DistinctUsers, 7_500 * (1 - (3 * 0.0163)), 7_500 * (1 + (3 * 0.0163)));
    }

    [Fact]
    public void A_sketch_with_an_impossible_register_is_refused()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var sketch = new HyperLogLog(4);
        sketch.Add("x");
        sketch.Write(new SnapshotWriter(buffer));
        var bytes = buffer.WrittenSpan.ToArray();
        bytes[^1] = 200;

        Assert.Throws<SnapshotFormatException>(() => HyperLogLog.Read(new SnapshotReader(bytes)));
    }
}
