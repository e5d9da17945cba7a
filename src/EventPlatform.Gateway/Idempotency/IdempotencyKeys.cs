using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace EventPlatform.Gateway.Idempotency;

/// <summary>How keys and claims are named in the idempotency log.</summary>
public static class IdempotencyKeys
{
    /// <summary>
    /// The 128-bit key of <paramref name="key"/> under <paramref name="subject"/>: SHA-256, truncated.
    /// A cryptographic hash because keys of different subjects share one table: a client must not be
    /// able to craft a key that lands on another subject's.
    /// </summary>
    public static UInt128 Key(string subject, string key)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(key);
        var length = (subject.Length + 1 + key.Length) * sizeof(char);
        var rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> input = rented ?? stackalloc byte[1024];
        // The subject's length first, so that ("a", "bc") and ("ab", "c") differ.
        var chars = MemoryMarshal.Cast<byte, char>(input);
        chars[0] = (char)subject.Length;
        subject.AsSpan().CopyTo(chars[1..]);
        key.AsSpan().CopyTo(chars[(1 + subject.Length)..]);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input[..length], digest);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return MemoryMarshal.Read<UInt128>(digest);
    }

    // The high half of every claim id of this process: random, so that claims of every instance
    // (and of this one before a restart) differ.
    private static readonly ulong ProcessPrefix = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long _claimCounter;

    /// <summary>
    /// A new claim id: this process's random 64-bit prefix and a counter. Claims of every instance
    /// must differ, not be secret (they are written beside the events), so one random draw per
    /// process is enough: a draw per request cost an OpenSSL call and a <c>getpid</c> system call
    /// (OpenSSL's fork check) on every publish.
    /// </summary>
    public static UInt128 NewClaimId() => new(ProcessPrefix, (ulong)Interlocked.Increment(ref _claimCounter));

    /// <summary>The claim header's value on an event record: the claim id as 32 hex digits.</summary>
    public static byte[] HeaderValue(UInt128 claimId) => System.Text.Encoding.ASCII.GetBytes(claimId.ToString("x32", null));

    /// <summary>Whether a claim header's value names <paramref name="claimId"/>.</summary>
    public static bool Names(ReadOnlySpan<byte> headerValue, UInt128 claimId)
    {
        Span<byte> expected = stackalloc byte[32];
        return claimId.TryFormat(expected, out var written, "x32", null) && written == 32 && headerValue.SequenceEqual(expected);
    }
}
