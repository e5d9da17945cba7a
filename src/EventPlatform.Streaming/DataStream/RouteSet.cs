namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// The repartition partitions one record goes to, ascending and without repeats. A record has one
/// per keyed stream (two in the default job), so a sorted list does it without the node per add
/// and the stack per enumeration of a <see cref="SortedSet{T}"/>, once per record.
/// </summary>
internal sealed class RouteSet
{
    private readonly List<int> _partitions = new(4);

    public int Count => _partitions.Count;

    public void Add(int partition)
    {
        var at = _partitions.BinarySearch(partition);
        if (at < 0)
        {
            _partitions.Insert(~at, partition);
        }
    }

    public void Clear() => _partitions.Clear();

    public List<int>.Enumerator GetEnumerator() => _partitions.GetEnumerator();
}
