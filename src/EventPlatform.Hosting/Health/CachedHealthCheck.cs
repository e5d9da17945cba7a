using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventPlatform.Hosting.Health;

/// <summary>
/// A readiness check that reaches another system (a warehouse, a store), measured at most once per
/// <see cref="CacheFor"/> whatever the number of callers: concurrent callers share one measurement,
/// and a measurement that does not finish within <see cref="Timeout"/> counts as unhealthy (it is
/// cancelled and never holds a caller up longer).
/// </summary>
/// <remarks>Thread-safe. Subclasses implement <see cref="MeasureAsync"/>, which must observe its token.</remarks>
public abstract class CachedHealthCheck : IHealthCheck
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _inFlight;
    private (HealthCheckResult Result, DateTimeOffset At)? _last;

    /// <param name="time">The clock of the cache.</param>
    /// <param name="cacheFor">How long a result is kept (default 1 s).</param>
    /// <param name="timeout">The longest a measurement may take (default 2 s, below <see cref="HealthEndpoints.CheckTimeout"/>).</param>
    protected CachedHealthCheck(TimeProvider time, TimeSpan? cacheFor = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        CacheFor = cacheFor ?? TimeSpan.FromSeconds(1);
        Timeout = timeout ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>How long a result is kept.</summary>
    public TimeSpan CacheFor { get; }

    /// <summary>The longest one measurement may take.</summary>
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> measuring;
        lock (_gate)
        {
            if (_last is { } last && _time.GetUtcNow() - last.At < CacheFor)
            {
                return Task.FromResult(last.Result);
            }

            // Task.Run: a measurement that completes at once must not clear _inFlight before it is set.
            measuring = _inFlight ??= Task.Run(MeasureBoundedAsync, CancellationToken.None);
        }

        return measuring.WaitAsync(cancellationToken);
    }

    /// <summary>Measures the dependency; <paramref name="cancellationToken"/> is cancelled after <see cref="Timeout"/>.</summary>
    protected abstract Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken);

    private async Task<HealthCheckResult> MeasureBoundedAsync()
    {
        HealthCheckResult result;
        using (var cts = new CancellationTokenSource(Timeout, _time))
        {
            try
            {
                result = await MeasureAsync(cts.Token).WaitAsync(Timeout, _time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && cts.IsCancellationRequested))
            {
                result = HealthCheckResult.Unhealthy($"no answer within {Timeout.TotalSeconds:0.#} s");
            }
#pragma warning disable CA1031 // A check reports what went wrong rather than throw into the health endpoint.
            catch (Exception e)
#pragma warning restore CA1031
            {
                result = HealthCheckResult.Unhealthy(e.Message, e);
            }
        }

        lock (_gate)
        {
            _last = (result, _time.GetUtcNow());
            _inFlight = null;
        }

        return result;
    }
}
