using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// The seed's HTTP metrics, measured around every request:
/// <c>http_request_duration_seconds</c> (histogram) and <c>http_requests_total</c> (counter) with
/// the labels <c>method</c>, <c>route</c> and <c>status</c>, and <c>http_requests_in_progress</c>
/// (gauge) with <c>method</c> and <c>route</c>. Also the request total and rate, and the latency
/// window of the routes marked with <see cref="RecentLatencyMetadata"/>, for the service metrics.
/// </summary>
/// <remarks>
/// <para>
/// <c>route</c> is the matched endpoint's route template (<c>/api/v1/events/{topic}</c>), never
/// the raw path, so the number of series stays bounded; a request no endpoint matched (404, 405)
/// gets <see cref="Unmatched"/>. A method outside the standard set is <c>_OTHER</c>. Endpoints
/// with <see cref="ExcludeFromHttpMetricsMetadata"/> (the scrape endpoint) are not measured.
/// </para>
/// <para>
/// The series of an endpoint, method and status are looked up once and cached: a request costs a
/// lock-free dictionary read and a few interlocked updates, no lock. Thread-safe.
/// </para>
/// </remarks>
public sealed class HttpRequestMetrics : IDisposable
{
    /// <summary>The <c>route</c> of requests that matched no endpoint.</summary>
    public const string Unmatched = "unmatched";

    /// <summary>1 ms to 32 s, doubling: the span between a cached answer and a client's timeout.</summary>
    private static readonly double[] DurationBuckets = Histogram.ExponentialBuckets(0.001, 2, 16);

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Gauge _inProgress;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(Endpoint? Endpoint, string Method), RouteSeries> _series = new();
    private long _total;

    public HttpRequestMetrics(MetricsRegistry registry, TimeProvider time)
    {
        _time = time;
        var factory = registry.Factory;
        _requests = factory.CreateCounter("http_requests_total", "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"]);
        _duration = factory.CreateHistogram("http_request_duration_seconds", "Time from the start of a request to the end of its response, by method, route template and status code.",
            ["method", "route", "status"], new HistogramConfiguration { Buckets = DurationBuckets });
        _inProgress = factory.CreateGauge("http_requests_in_progress", "HTTP requests being handled now, by method and route template.",
            ["method", "route"]);
        RequestRate = new RateWindow(() => RequestsTotal, time, ServiceWindow);
        RecentLatency = new LatencyWindow(time, ServiceWindow);
    }

    /// <summary>The window of the service metrics' rates and latencies.</summary>
    public static TimeSpan ServiceWindow { get; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests measured since start (every route but the excluded ones).</summary>
    public long RequestsTotal => Volatile.Read(ref _total);

    /// <summary>Requests per second over the last <see cref="ServiceWindow"/>.</summary>
    public RateWindow RequestRate { get; }

    /// <summary>Latencies of the requests to routes marked with <see cref="RecentLatencyMetadata"/>.</summary>
    public LatencyWindow RecentLatency { get; }

    /// <summary>Measures one request around <paramref name="next"/>.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // Routing has run (WebApplication puts it first), so the endpoint is known; error
        // handlers may clear it later, which is why it is taken now.
        var series = Series(context.GetEndpoint(), context.Request.Method);
        if (series is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var started = _time.GetTimestamp();
        series.InProgress.Inc();
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            await next(context).ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        catch when (context.Response.HasStarted)
        {
            status = context.Response.StatusCode;
            throw;
        }
        finally
        {
            series.InProgress.Dec();
            var elapsed = _time.GetElapsedTime(started);
            var statusSeries = series.ForStatus(status);
            statusSeries.Requests.Inc();
            statusSeries.Duration.Observe(elapsed.TotalSeconds);
            Interlocked.Increment(ref _total);
            if (series.TracksLatency)
            {
                RecentLatency.Record(elapsed);
            }
        }
    }

    public void Dispose()
    {
        RequestRate.Dispose();
        RecentLatency.Dispose();
    }

    private RouteSeries? Series(Endpoint? endpoint, string method)
    {
        var key = (endpoint, NormalizeMethod(method));
        if (_series.TryGetValue(key, out var series))
        {
            return series.Excluded ? null : series;
        }

        series = _series.GetOrAdd(key, static (k, self) => self.CreateSeries(k.Endpoint, k.Method), this);
        return series.Excluded ? null : series;
    }

    private RouteSeries CreateSeries(Endpoint? endpoint, string method)
    {
        var route = RouteOf(endpoint);
        if (endpoint?.Metadata.GetMetadata<ExcludeFromHttpMetricsMetadata>() is not null)
        {
            return new RouteSeries(this, method, route, null, tracksLatency: false);
        }

        return new RouteSeries(this, method, route, _inProgress.WithLabels(method, route),
            endpoint?.Metadata.GetMetadata<RecentLatencyMetadata>() is not null);
    }

    /// <summary>The route template of an endpoint, with a leading slash; <see cref="Unmatched"/> for none.</summary>
    internal static string RouteOf(Endpoint? endpoint)
    {
        // The 405 endpoint routing makes for a wrong method is not a RouteEndpoint: unmatched too.
        if (endpoint is not RouteEndpoint { RoutePattern.RawText: { } template })
        {
            return Unmatched;
        }

        return template.StartsWith('/') ? template : "/" + template;
    }

    private static string NormalizeMethod(string method) => method switch
    {
        "GET" or "POST" or "PUT" or "DELETE" or "PATCH" or "HEAD" or "OPTIONS" or "CONNECT" or "TRACE" => method,
        _ => "_OTHER",
    };

    private StatusSeries CreateStatusSeries(string method, string route, int status)
    {
        var code = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new StatusSeries(_requests.WithLabels(method, route, code), _duration.WithLabels(method, route, code));
    }

    /// <summary>A class, not a struct, so that publishing it in the cache is one atomic reference write.</summary>
    private sealed record StatusSeries(Counter.Child Requests, Histogram.Child Duration);

    /// <summary>The series of one endpoint and method, with its per-status series made on first use.</summary>
    /// <remarks>Without <paramref name="inProgress"/>, the endpoint is excluded and has no series at all.</remarks>
    private sealed class RouteSeries(HttpRequestMetrics owner, string method, string route, Gauge.Child? inProgress, bool tracksLatency)
    {
        private const int FirstStatus = 100;
        private readonly StatusSeries?[] _byStatus = new StatusSeries?[500];

        public Gauge.Child InProgress { get; } = inProgress!;

        public bool TracksLatency { get; } = tracksLatency;

        public bool Excluded { get; } = inProgress is null;

        public StatusSeries ForStatus(int status)
        {
            var index = status - FirstStatus;
            if ((uint)index >= (uint)_byStatus.Length)
            {
                return owner.CreateStatusSeries(method, route, status);
            }

            // Two threads may both create the series of a new status: prometheus-net hands both the same children.
            return _byStatus[index] ??= owner.CreateStatusSeries(method, route, status);
        }
    }
}

/// <summary>Marks an endpoint that <see cref="HttpRequestMetrics"/> does not measure (the scrape endpoint itself).</summary>
public sealed class ExcludeFromHttpMetricsMetadata
{
    public static ExcludeFromHttpMetricsMetadata Instance { get; } = new();
}

/// <summary>
/// Marks an endpoint whose request latencies go into <see cref="HttpRequestMetrics.RecentLatency"/>
/// (the gateway's publish routes, for <c>latency_ms</c> of the service metrics).
/// </summary>
public sealed class RecentLatencyMetadata
{
    public static RecentLatencyMetadata Instance { get; } = new();
}
