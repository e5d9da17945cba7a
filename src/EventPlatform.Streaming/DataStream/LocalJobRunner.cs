using EventPlatform.Streaming.Time;

namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// Runs a job over a list of records in memory, as Kafka Streams' topology test driver: for tests
/// and for checking a job before it meets Kafka. Every partition that occurs in the input is
/// tracked from the start; the watermark is advanced after every record.
/// </summary>
public static class LocalJobRunner
{
    /// <summary>
    /// The job's output for <paramref name="input"/> (in the given order). With
    /// <paramref name="endOfInput"/> every window still open fires at the end.
    /// </summary>
    public static List<OutputRecord> Run(StreamJob job, IEnumerable<SourceRecord> input, WatermarkOptions? watermarks = null, bool endOfInput = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = new ListOutput();
        var records = input.ToList();
        var instance = new JobInstance(job, output, watermarks ?? new WatermarkOptions(), TimeProvider.System);
        Feed(instance, records, endOfInput);
        return output.Records;
    }

    /// <summary>
    /// Adds every partition of <paramref name="records"/> to <paramref name="instance"/>, then
    /// processes them one by one, advancing the watermark after each.
    /// </summary>
    public static void Feed(JobInstance instance, IReadOnlyList<SourceRecord> records, bool endOfInput)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(records);
        foreach (var partition in records.Select(r => new SourcePartition(r.Topic, r.Partition)).Distinct())
        {
            instance.AddPartition(partition);
        }
        foreach (var record in records)
        {
            instance.Process(record);
            instance.AdvanceWatermark();
        }
        if (endOfInput)
        {
            instance.EndOfInput();
        }
    }
}

/// <summary>Collects a job's output in a list. Not thread-safe.</summary>
public sealed class ListOutput : IJobOutput
{
    /// <summary>The records in emission order.</summary>
    public List<OutputRecord> Records { get; } = [];

    /// <inheritdoc />
    public void Write(OutputRecord record) => Records.Add(record);
}
