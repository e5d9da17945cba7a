using System.Text.Json;
using System.Text.Json.Serialization;
using static System.FormattableString;

namespace EventPlatform.LoadGen;

/// <summary>Latency percentiles in milliseconds, of the requests answered with a 2xx in the measured period.</summary>
public sealed record LatencySummary(long Count, double P50, double P95, double P99, double P999, double Max, double Mean);

/// <summary>
/// What one run measured. Everything but the CPU figures covers the measured period only (the
/// warmup is left out). Rates are per second of that period, which lasts until its last request
/// was answered, so a backlog drained after the end lowers the rate rather than hiding.
/// </summary>
/// <param name="Format">The body encoding: json, avro or protobuf.</param>
/// <param name="Mode">"open" (fixed rate, latency from each request's intended send time) or "closed" (fixed concurrency).</param>
/// <param name="TargetRate">Requests per second asked for; 0 in closed loop.</param>
/// <param name="Requests">Requests that ended: answered with any status, or failed without an answer.</param>
/// <param name="NonSuccess">Requests answered with a status outside 2xx.</param>
/// <param name="TransportErrors">Requests that got no HTTP answer: refused, reset, timed out.</param>
/// <param name="Dropped">Open loop: requests that were due but not sent because max-in-flight were already out.</param>
/// <param name="EventsAccepted">Events the gateway accepted (a 207 batch answer counts its <c>accepted</c> field).</param>
/// <param name="OkRequestsPerSecond">2xx answers per second of the measured period.</param>
/// <param name="SendLagP99Ms">Open loop: how late the generator itself sent requests after their intended time (p99). Large values mean the generator, not the gateway, fell behind.</param>
/// <param name="GeneratorCpuCores">CPU time this process used over the whole run divided by its wall time: how many cores the generator took from the machine.</param>
public sealed record LoadGenReport(
    string Url,
    string Topic,
    string Format,
    string Mode,
    double TargetRate,
    int Concurrency,
    int BatchSize,
    int Connections,
    int MaxInFlight,
    double WarmupSeconds,
    double MeasuredSeconds,
    bool Cancelled,
    long Requests,
    long Ok,
    long NonSuccess,
    IReadOnlyDictionary<int, long> NonSuccessByStatus,
    long TransportErrors,
    IReadOnlyDictionary<string, long> TransportErrorsByKind,
    string? FirstTransportError,
    long Dropped,
    long EventsSent,
    long EventsAccepted,
    long EventsRejected,
    double OkRequestsPerSecond,
    double EventsPerSecond,
    LatencySummary LatencyMs,
    double SendLagP99Ms,
    double SendLagMaxMs,
    double GeneratorCpuSeconds,
    double GeneratorCpuCores,
    int ProcessorCount)
{
    /// <summary>The exit code a CLI should give: success needs at least one 2xx and no transport error.</summary>
    [JsonIgnore]
    public bool Succeeded => Ok > 0 && TransportErrors == 0;

    /// <summary>The report in snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LoadGenJsonContext.Default.LoadGenReport);

    /// <summary>A human-readable summary, a few lines of plain text.</summary>
    public void WriteSummary(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var shape = Mode == "open"
            ? Invariant($"open loop at {TargetRate:N0} req/s")
            : Invariant($"closed loop with {Concurrency} workers");
        writer.WriteLine(Invariant($"Load test: {shape}, {BatchSize} {Format} event(s) per request, topic {Topic}, {Url}{(Cancelled ? " (CANCELLED)" : "")}"));
        writer.WriteLine(Invariant($"  measured     {MeasuredSeconds:F2} s after {WarmupSeconds:F1} s warmup"));
        writer.WriteLine(Invariant($"  requests     {Requests:N0}: ok {Ok:N0}, non-2xx {NonSuccess:N0}, transport errors {TransportErrors:N0}, dropped {Dropped:N0}"));
        foreach (var (status, count) in NonSuccessByStatus)
        {
            writer.WriteLine(Invariant($"    HTTP {status}: {count:N0}"));
        }

        foreach (var (kind, count) in TransportErrorsByKind)
        {
            writer.WriteLine(Invariant($"    {kind}: {count:N0}"));
        }

        if (FirstTransportError is not null)
        {
            writer.WriteLine($"    first transport error: {FirstTransportError}");
        }

        writer.WriteLine(Invariant($"  events       {EventsSent:N0} sent, {EventsAccepted:N0} accepted, {EventsRejected:N0} rejected in 207 answers"));
        var target = Mode == "open" ? Invariant($" (target {TargetRate:N0} req/s = {TargetRate * BatchSize:N0} events/s)") : "";
        writer.WriteLine(Invariant($"  throughput   {OkRequestsPerSecond:N1} ok req/s, {EventsPerSecond:N1} events/s{target}"));
        var from = Mode == "open" ? "from intended send time" : "per request";
        writer.WriteLine(Invariant($"  latency ms   p50 {LatencyMs.P50:F2}  p95 {LatencyMs.P95:F2}  p99 {LatencyMs.P99:F2}  p99.9 {LatencyMs.P999:F2}  max {LatencyMs.Max:F2}  ({LatencyMs.Count:N0} 2xx, {from})"));
        var lag = Mode == "open" ? Invariant($", send lag p99 {SendLagP99Ms:F2} ms max {SendLagMaxMs:F2} ms") : "";
        writer.WriteLine(Invariant($"  generator    {GeneratorCpuSeconds:F2} s CPU = {GeneratorCpuCores:F2} of {ProcessorCount} cores{lag}"));
        if (Dropped > 0)
        {
            writer.WriteLine(Invariant($"  WARNING: {Dropped:N0} requests were due but not sent ({MaxInFlight:N0} already in flight): the gateway did not keep up with the target rate."));
        }
    }
}

/// <summary>Source-generated JSON for the report: no reflection at run time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(LoadGenReport))]
internal sealed partial class LoadGenJsonContext : JsonSerializerContext;
