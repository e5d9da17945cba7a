using System.Buffers;
using System.IO.Hashing;
using EventPlatform.Streaming.State;

namespace EventPlatform.Streaming.DataStream;

/// <summary>
/// Which repartition partition a key belongs to: xxHash32 of the key's snapshot bytes (its
/// <see cref="IStateSerializer{T}"/>) modulo the partition count. Stable across processes and
/// machines (unlike <see cref="object.GetHashCode"/>), so every instance routes a key alike.
/// </summary>
/// <remarks>Not thread-safe: it reuses one buffer.</remarks>
internal sealed class KeyPartitioner<TKey>(IStateSerializer<TKey> serializer, int partitionCount)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64);

    public int PartitionOf(TKey key)
    {
        _buffer.ResetWrittenCount();
        serializer.Write(new SnapshotWriter(_buffer), key);
        return (int)(XxHash32.HashToUInt32(_buffer.WrittenSpan) % (uint)partitionCount);
    }
}

/// <summary>
/// A keyed stream's key selector and partitioner with the last element remembered: the windows of
/// one keyed stream receive the same element one after another, and all but the first reuse its key
/// and partition. Elements are recognised by reference, so value types are keyed every time; key
/// selectors are deterministic (the API asks it), so a remembered key is the key.
/// </summary>
/// <remarks>Not thread-safe: one job instance's loop owns it.</remarks>
internal sealed class KeyRoute<TKey, T>(Func<T, TKey> selector, KeyPartitioner<TKey> partitioner)
    where TKey : notnull
{
    private object? _last;
    private TKey? _key;
    private int _partition;

    public int PartitionOf(T value, out TKey key)
    {
        if (!typeof(T).IsValueType && value is not null && ReferenceEquals(_last, value))
        {
            key = _key!;
            return _partition;
        }
        key = selector(value);
        _partition = partitioner.PartitionOf(key);
        _key = key;
        _last = typeof(T).IsValueType ? null : value;
        return _partition;
    }
}
