using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// How many errors a service has reported to its clients since start, by <c>error_code</c>:
/// every <see cref="Core.Errors.ErrorResponse"/> (counted where they are made, in
/// <see cref="Errors.ApiErrors"/>), plus errors a route reports inside a successful answer (the
/// rejected slots of a batch) when the route records them.
/// </summary>
/// <remarks>Error codes are a small fixed set, so the map stays small. Thread-safe, lock-free.</remarks>
public sealed class ApiErrorCounts
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _byCode = new(StringComparer.Ordinal);
    private long _total;

    /// <summary>Every error counted so far.</summary>
    public long Total => Volatile.Read(ref _total);

    /// <summary>Counts one error with <paramref name="errorCode"/>.</summary>
    public void Record(string errorCode)
    {
        var box = _byCode.GetOrAdd(errorCode, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The counts by code, in code order.</summary>
    public SortedDictionary<string, long> ByCode()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, count) in _byCode)
        {
            result[code] = Volatile.Read(ref count.Value);
        }

        return result;
    }
}
