namespace EventPlatform.Streaming.Aggregation;

/// <summary>
/// A running sum with Neumaier's compensation: the rounding error of each addition is kept and
/// added back at the end, so the result is nearly independent of the order of the values. Merging
/// two sums (in whatever order partial aggregates arrive) can still change the last bits.
/// </summary>
internal struct NeumaierSum
{
    private double _sum;
    private double _compensation;

    /// <summary>Creates a sum from its parts, as read from a snapshot.</summary>
    public NeumaierSum(double sum, double compensation)
    {
        _sum = sum;
        _compensation = compensation;
    }

    /// <summary>The uncompensated running sum.</summary>
    public readonly double RunningSum => _sum;

    /// <summary>The accumulated rounding error.</summary>
    public readonly double Compensation => _compensation;

    /// <summary>The compensated total.</summary>
    public readonly double Value => _sum + _compensation;

    /// <summary>Adds a value.</summary>
    public void Add(double value)
    {
        var total = _sum + value;
        _compensation += Math.Abs(_sum) >= Math.Abs(value) ? (_sum - total) + value : (value - total) + _sum;
        _sum = total;
    }

    /// <summary>Adds another sum, keeping both compensations.</summary>
    public void Add(NeumaierSum other)
    {
        Add(other._sum);
        _compensation += other._compensation;
    }
}
