using System.Buffers;

namespace EventPlatform.Gateway.Publishing;

/// <summary>
/// Bytes in a pooled array (a request body, a WebSocket message). Events read from them slice into
/// the array, so whoever holds this must keep it until every such event is published: an entry
/// point hands it to <see cref="PublishPipeline"/>, which releases it when the last event is answered.
/// Disposing twice is harmless.
/// </summary>
public sealed class PooledBytes : IDisposable
{
    private byte[]? _buffer;

    /// <summary>Takes <paramref name="buffer"/>, rented from <see cref="ArrayPool{T}.Shared"/>; it goes back there on dispose.</summary>
    public PooledBytes(byte[] buffer, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Length);
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    /// <summary>The bytes; throws once released, so a use after release fails loudly instead of reading another request's data.</summary>
    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PooledBytes))).AsMemory(0, Length);

    /// <summary>Whether the array has gone back to the pool.</summary>
    public bool IsReleased => Volatile.Read(ref _buffer) is null;

    /// <summary>Rents an array and copies <paramref name="bytes"/> into it.</summary>
    public static PooledBytes CopyOf(ReadOnlySpan<byte> bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length, 1));
        bytes.CopyTo(buffer);
        return new PooledBytes(buffer, bytes.Length);
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
