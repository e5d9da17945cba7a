using EventPlatform.Streaming.Aggregation;

namespace EventPlatform.Streaming.Tests;

public class NeumaierSumTests
{
    [Fact]
    public void Small_values_next_to_a_large_one_are_not_lost()
    {
        var sum = new NeumaierSum();
        sum.Add(1e16);
        for (var i = 0; i < 1000; i++)
        {
            sum.Add(1.0);
        }
        sum.Add(-1e16);

        Assert.Equal(1000.0, sum.Value);
    }

    [Fact]
    public void The_classic_cancellation_case_sums_exactly()
    {
        var sum = new NeumaierSum();
        foreach (var value in new[] { 1.0, 1e100, 1.0, -1e100 })
        {
            sum.Add(value);
        }

        Assert.Equal(2.0, sum.Value);
    }
}
