using System.Text.Encodings.Web;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using EventPlatform.Gateway.Protection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventPlatform.Benchmarks;

/// <summary>
/// Writing audit entries to the day's file: <see cref="AuditLog"/> (entries queued, formatted into
/// one buffer, one write per batch) against the strategy it replaced, a JSON writer on the file
/// whose Flush flushed the stream, one write call per entry. Per entry; the AuditLog figure also
/// pays for the queue and its background writer.
/// </summary>
[MemoryDiagnoser]
public class AuditLogBenchmarks
{
    private const int Entries = 10_000;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "audit-bench-" + Guid.NewGuid().ToString("N"));
    private AuditEntry[] _entries = [];

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var now = DateTimeOffset.UtcNow;
        _entries = [.. Enumerable.Range(0, Entries).Select(i => new AuditEntry(
            now, "load-test", "127.0.0.1", "POST", "/api/v1/events/{topic}", "/api/v1/events/iot.sensors", 200, 12.345, "req_" + i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)))];
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries, Description = "JSON writer on the file, flush per entry (before)")]
    public void FlushPerEntry()
    {
        using var file = new FileStream(Path.Combine(_directory, "before.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        using var json = new Utf8JsonWriter(file, WriterOptions);
        foreach (var e in _entries)
        {
            json.WriteStartObject();
            json.WriteString("time"u8, e.Time.UtcDateTime);
            json.WriteString("subject"u8, e.Subject);
            json.WriteString("client"u8, e.Client);
            json.WriteString("method"u8, e.Method);
            json.WriteString("route"u8, e.Route);
            json.WriteString("path"u8, e.Path);
            json.WriteNumber("status"u8, e.Status);
            json.WriteNumber("elapsed_ms"u8, Math.Round(e.ElapsedMs, 3));
            json.WriteString("request_id"u8, e.RequestId);
            json.WriteEndObject();
            json.Flush();
            json.Reset();
            file.WriteByte((byte)'\n');
        }
    }

    [Benchmark(OperationsPerInvoke = Entries, Description = "AuditLog: queue, one write per batch (after)")]
    public async Task AuditLogWriter()
    {
        using var audit = new AuditLog(Options.Create(new AuditOptions { Directory = _directory }), new ConfigurationBuilder().Build(), NullLoggerFactory.Instance);
        await audit.StartAsync(CancellationToken.None);
        foreach (var e in _entries)
        {
            audit.Record(e);
        }

        await audit.StopAsync(CancellationToken.None);
    }
}
