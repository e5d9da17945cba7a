using System.Diagnostics.Metrics;

namespace EventPlatform.SchemaRegistry.Registry;

/// <summary>
/// What the registry counts, on the meter <see cref="MeterName"/> (exported to <c>/metrics</c>):
/// <c>schema_registry_registrations_total{schema_type, outcome}</c> (registered, existing,
/// incompatible, invalid, refused), <c>schema_registry_compatibility_checks_total{outcome}</c>,
/// and the gauges <c>schema_registry_subjects</c>, <c>schema_registry_schemas</c> and
/// <c>schema_registry_store_records</c> read from the state at each scrape.
/// </summary>
public sealed class RegistryMetrics : IDisposable
{
    /// <summary>The registry's meter.</summary>
    public const string MeterName = "EventPlatform.SchemaRegistry";

    private readonly Meter _meter;
    private readonly Counter<long> _registrations;
    private readonly Counter<long> _checks;

    /// <summary>Creates the instruments.</summary>
    public RegistryMetrics(IMeterFactory meters, KafkaSchemaLog log)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(log);
        _meter = meters.Create(MeterName);
        _registrations = _meter.CreateCounter<long>("schema_registry_registrations_total", "{request}", "Register requests, by schema type and outcome (registered, existing, incompatible, invalid, refused).");
        _checks = _meter.CreateCounter<long>("schema_registry_compatibility_checks_total", "{request}", "Compatibility checks, by outcome (compatible, incompatible).");
        _meter.CreateObservableGauge("schema_registry_subjects", () => log.Read(s => s.SubjectNames.Count()), "{subject}", "Subjects with at least one version (live or soft-deleted).");
        _meter.CreateObservableGauge("schema_registry_schemas", () => log.Read(s => s.AllVersions.Select(v => v.Id).Distinct().Count()), "{schema}", "Distinct schema ids in use.");
        _meter.CreateObservableGauge("schema_registry_store_records", () => log.Read(s => s.RecordsApplied), "{record}", "Records read from the Kafka store since start.");
    }

    /// <summary>Counts a register request.</summary>
    public void Registration(string schemaType, string outcome) =>
        _registrations.Add(1, new KeyValuePair<string, object?>("schema_type", schemaType), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Counts a compatibility check.</summary>
    public void CompatibilityCheck(bool compatible) =>
        _checks.Add(1, new KeyValuePair<string, object?>("outcome", compatible ? "compatible" : "incompatible"));

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();
}
