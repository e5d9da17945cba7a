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
