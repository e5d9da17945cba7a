using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using EventPlatform.Hosting.Configuration;
using EventPlatform.Hosting.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventPlatform.Benchmarks;

/// <summary>
/// What the logs cost a publish at the default level (Information), through the platform's own
/// logging setup: the gateway's per-event Debug line (off: one level check), and, with JSON logs,
/// the per-request work (a logging scope with the request id, an activity for the trace context).
/// </summary>
[MemoryDiagnoser]
public partial class LoggingBenchmarks
{
    private ServiceProvider _text = null!;
    private ServiceProvider _json = null!;
    private ILogger _textLogger = null!;
    private ILogger _jsonLogger = null!;
    private ActivitySource _aspNetCore = null!;

    [GlobalSetup]
    public void Setup()
    {
        _text = Build("text");
        _json = Build("json");
        _textLogger = _text.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Gateway.Publishing.PublishPipeline");
        _jsonLogger = _json.GetRequiredService<ILoggerFactory>().CreateLogger("EventPlatform.Gateway.Publishing.PublishPipeline");
        _json.GetRequiredService<RequestActivities>();
        _aspNetCore = new ActivitySource(RequestActivities.AspNetCoreSource);
    }

    private static ServiceProvider Build(string format)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PlatformLogging.FormatKey] = format }).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => PlatformLogging.Configure(logging, configuration));
        return services.BuildServiceProvider();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aspNetCore.Dispose();
        _text.Dispose();
        _json.Dispose();
    }

    [LoggerMessage(EventId = 9901, Level = LogLevel.Debug, Message = "Event {EventId} accepted: {Topic}[{Partition}]@{Offset} (replayed {Replayed})")]
    private static partial void LogAccepted(ILogger logger, string? eventId, string topic, int partition, long offset, bool replayed);

    [Benchmark(Baseline = true, Description = "nothing")]
    public void Nothing()
    {
    }

    [Benchmark(Description = "per-event Debug line, off (text logs)")]
    public void DebugLineOffText() => LogAccepted(_textLogger, "evt_1", "events.iot.sensors", 3, 12345, false);

    [Benchmark(Description = "per-event Debug line, off (JSON logs)")]
    public void DebugLineOffJson() => LogAccepted(_jsonLogger, "evt_1", "events.iot.sensors", 3, 12345, false);

    [Benchmark(Description = "JSON logs, per request: request-id scope")]
    public void RequestScope()
    {
        using var scope = _jsonLogger.BeginScope(new RequestLogScopeProbe("req_0123456789abcdef"));
    }

    [Benchmark(Description = "JSON logs, per request: trace activity (start+stop)")]
    public void RequestActivity()
    {
        using var activity = _aspNetCore.CreateActivity("Microsoft.AspNetCore.Hosting.HttpRequestIn", ActivityKind.Server);
        activity?.Start();
    }

    /// <summary>The shape of the middleware's scope state (one key/value).</summary>
    private sealed class RequestLogScopeProbe(string id) : List<KeyValuePair<string, object?>>([new("RequestId", id)]);
}
