using EventPlatform.Streaming.DataStream;

namespace EventPlatform.Processor.Job;

/// <summary>
/// The last records this instance classified, by their coordinates: under scale-out the engine runs the
/// steps before the windows twice (when routing a source record and again when the routed copy comes
/// back from the repartition topic, once per partition its keys picked), and decoding, validating and
/// enriching is the costliest step, so the second time takes the first result.
/// </summary>
/// <remarks>
/// Bounded (oldest dropped first): a miss only costs a second classification, which gives the same
/// result because the step is deterministic. A hit also needs equal value bytes, so a topic recreated
/// with the same coordinates is never served a stale result. Not thread-safe: one job instance, on its
/// consume thread, uses it.
/// </remarks>
public sealed class RecentlyProcessed
{
    private readonly Dictionary<(string Topic, int Partition, long Offset), ProcessedRecord> _byCoordinates;
    private readonly (string Topic, int Partition, long Offset)[] _order;
    private int _next;

    /// <param name="capacity">How many results are kept.</param>
    public RecentlyProcessed(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _byCoordinates = new Dictionary<(string, int, long), ProcessedRecord>(capacity);
        _order = new (string, int, long)[capacity];
    }

    /// <summary>The result for <paramref name="record"/>, from memory when this instance classified it recently.</summary>
    /// <param name="record">The consumed (or routed) record.</param>
    /// <param name="process">The step to run on a miss.</param>
    /// <param name="firstTime">False when the result came from memory: the record was counted already.</param>
    public ProcessedRecord GetOrProcess(SourceRecord record, Func<SourceRecord, ProcessedRecord> process, out bool firstTime)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(process);
        var coordinates = (record.Topic, record.Partition, record.Offset);
        if (_byCoordinates.TryGetValue(coordinates, out var known) && known.Source.Value.AsSpan().SequenceEqual(record.Value))
        {
            firstTime = false;
            return known;
        }

        var result = process(record);
        if (!_byCoordinates.ContainsKey(coordinates))
        {
            if (_byCoordinates.Count == _order.Length)
            {
                _byCoordinates.Remove(_order[_next]);
            }

            _order[_next] = coordinates;
            _next = (_next + 1) % _order.Length;
        }

        _byCoordinates[coordinates] = result;
        firstTime = true;
        return result;
    }
}
