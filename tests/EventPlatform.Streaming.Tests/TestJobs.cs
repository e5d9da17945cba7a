using System.Globalization;
using System.Text;
using EventPlatform.Streaming.Aggregation;
using EventPlatform.Streaming.DataStream;
using EventPlatform.Streaming.Operators;
using EventPlatform.Streaming.State;
using EventPlatform.Streaming.Windows;

namespace EventPlatform.Streaming.Tests;

/// <summary>The jobs the tests run: a count per key and minute, with a dead letter and a late output.</summary>
public static class TestJobs
{
    public sealed record Topics(string Input, string Output, string Invalid, string Late)
    {
        public static Topics Named(string prefix) => new($"{prefix}.in", $"{prefix}.out", $"{prefix}.invalid", $"{prefix}.late");
    }

    public static readonly OutputTag<SourceRecord> Invalid = new("invalid");

    /// <summary>
    /// Values are the key as text; a value starting with '!' is invalid and goes to the invalid
    /// topic. Counts per key per tumbling minute go to the output topic keyed by window identity and
    /// key; late records to the late topic.
    /// </summary>
    public static StreamJob CountPerMinute(Topics topics, string name = "count-per-minute", string version = "1", LateDataPolicy? late = null)
    {
        var job = new StreamJob(name, version);
        var parsed = job.Source(topics.Input, r => r, (r, _) => r.Timestamp)
            .Process<string>((record, context) =>
            {
                var text = Encoding.UTF8.GetString(record.Value);
                if (text.StartsWith('!'))
                {
                    context.Emit(Invalid, record);
                }
                else
                {
                    context.Emit(text);
                }
            });
        parsed.SideOutput(Invalid).SinkTo(topics.Invalid, r => r.Key, r => r.Value);
        var counts = parsed
            .Filter(text => text.Length > 0)
            .KeyBy(text => text)
            .Window(new WindowDefinition(WindowAssigner.Tumbling(TimeSpan.FromMinutes(1)), late ?? LateDataPolicy.SideOutput))
            .Aggregate(new CountAggregate<string>(), StateSerializers.Int64);
        counts.SinkTo(topics.Output, OutputKeys.ForWindow, r => Encoding.UTF8.GetBytes(r.Result.ToString(CultureInfo.InvariantCulture)));
        counts.LateRecords.SinkTo(topics.Late, r => Encoding.UTF8.GetBytes(r.Key), r => Encoding.UTF8.GetBytes(r.Input));
        return job;
    }

    public static SourceRecord Record(string topic, int partition, long offset, string value, long timestamp) =>
        new(topic, partition, offset, null, Encoding.UTF8.GetBytes(value), timestamp);

    /// <summary>The expected counts per "key|window" by brute force over the valid records.</summary>
    public static Dictionary<string, long> ExpectedCounts(IEnumerable<(string Value, long Timestamp)> records) =>
        records.Where(r => !r.Value.StartsWith('!') && r.Value.Length > 0)
            .GroupBy(r => $"{r.Value}|tumbling(60000ms)[{Floor(r.Timestamp)},{Floor(r.Timestamp) + 60_000})")
            .ToDictionary(g => g.Key, g => (long)g.Count());

    private static long Floor(long timestamp) => timestamp - (((timestamp % 60_000) + 60_000) % 60_000);
}
