namespace EventPlatform.Core.Routing;

/// <summary>
/// The partitioner of the Java Kafka client (<c>Utils.murmur2</c>, then <c>toPositive % n</c>).
/// </summary>
/// <remarks>
/// The platform's producers use librdkafka's <c>murmur2_random</c> partitioner, which computes
/// the same thing. This reference lets tests prove that a key lands where a Java producer,
/// Kafka Streams or Flink would put it (Property 4 across languages).
/// </remarks>
public static class KafkaMurmur2
{
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint Seed = 0x9747b28c;
        const uint M = 0x5bd1e995;
        const int R = 24;

        var length = data.Length;
        var h = Seed ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = (uint)(data[i * 4] | (data[(i * 4) + 1] << 8) | (data[(i * 4) + 2] << 16) | (data[(i * 4) + 3] << 24));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }

        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= M;
                break;
        }

        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>The partition a keyed record goes to among <paramref name="partitionCount"/>.</summary>
    public static int Partition(ReadOnlySpan<byte> key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        return (Hash(key) & 0x7fffffff) % partitionCount;
    }
}
