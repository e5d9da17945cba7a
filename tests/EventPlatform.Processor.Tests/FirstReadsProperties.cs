using EventPlatform.Processor.Job;
using EventPlatform.Streaming.DataStream;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EventPlatform.Processor.Tests;

/// <summary>
/// The consumed counter under scale-out: every record is counted once on the instance that routes
/// it, however its routed copies come back interleaved with later source records.
/// </summary>
public class FirstReadsProperties
{
    [Property(MaxTest = 200)]
    public Property Each_record_is_counted_once_whatever_the_routed_copies_interleave(PositiveInt[] lengths, int seed)
    {
        // Source records of a few partitions in offset order, each followed at a random later point by
        // one or two routed copies (a partition's copies keep their order: routed in offset order).
        var random = new Random(seed);
        var partitions = lengths.Take(4).Select((n, p) => Enumerable.Range(0, n.Get % 50).Select(o => new SourceRecord("t", p, o, null, [], 0)).ToList()).ToList();
        var ordered = new List<SourceRecord>();
        var pending = partitions.Select(_ => new Queue<SourceRecord>()).ToList();
        var next = partitions.Select(_ => 0).ToArray();
        while (next.Select((n, p) => n < partitions[p].Count).Any(x => x) || pending.Any(q => q.Count > 0))
        {
            var p = random.Next(partitions.Count);
            if (random.Next(2) == 0 && next[p] < partitions[p].Count)
            {
                var record = partitions[p][next[p]++];
                ordered.Add(record);
                for (var copies = random.Next(3); copies > 0; copies--)
                {
                    pending[p].Enqueue(record);
                }
            }
            else if (pending[p].Count > 0)
            {
                ordered.Add(pending[p].Dequeue());
            }
        }

        var reads = new FirstReads();
        var counted = ordered.Where(reads.IsFirst).ToList();
        var expected = partitions.SelectMany(p => p).ToList();
        return (counted.Count == expected.Count && counted.ToHashSet().SetEquals(expected)).ToProperty()
            .Label($"{counted.Count} counted of {expected.Count} records in {ordered.Count} reads")
            .Classify(ordered.Count > expected.Count, "with routed copies");
    }

    [Fact]
    public void A_copy_routed_by_another_instance_is_counted_where_it_arrives()
    {
        var reads = new FirstReads();
        Assert.True(reads.IsFirst(new SourceRecord("t", 0, 5, null, [], 0)));
        Assert.False(reads.IsFirst(new SourceRecord("t", 0, 5, null, [], 0)));
        Assert.True(reads.IsFirst(new SourceRecord("t", 1, 0, null, [], 0)));
        Assert.True(reads.IsFirst(new SourceRecord("u", 0, 5, null, [], 0)));
    }
}
