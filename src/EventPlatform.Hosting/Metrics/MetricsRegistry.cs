using Prometheus;

namespace EventPlatform.Hosting.Metrics;

/// <summary>
/// The Prometheus registry of one service: what its <c>/metrics</c> endpoint serves. Holds the
/// HTTP metrics, the process and .NET runtime metrics, and every instrument of the platform's
/// own meters (through <see cref="PrometheusMeterExporter"/>).
/// </summary>
/// <remarks>
/// One per host rather than prometheus-net's static default registry, so that several services
/// (or several test gateways) in one process keep their own counts. Exemplars are off: they
/// would read <c>Activity.Current</c> on every observation for a feature no scrape here asks for.
/// Thread-safe.
/// </remarks>
public sealed class MetricsRegistry
{
    public MetricsRegistry()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        Factory = factory;
        DotNetStats.Register(Registry);
    }

    /// <summary>What the exposition endpoint collects from.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Creates metrics in <see cref="Registry"/>.</summary>
    public IMetricFactory Factory { get; }
}
