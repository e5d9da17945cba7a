using EventPlatform.Gateway.Protection;
using EventPlatform.Testing;
using FsCheck.Xunit;

namespace EventPlatform.Gateway.Tests;

/// <summary>
/// The audit files' bounds: segments of a day, deletion by age and by total size, names that are not
/// ours left alone; then a gateway flooded with unauthenticated requests keeps its audit directory
/// within the budget.
/// </summary>
public sealed class AuditFilesTests : IDisposable
{
    private static readonly DateOnly Today = new(2026, 12, 3);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "audit-files-" + Guid.NewGuid().ToString("N"));

    public AuditFilesTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Property(MaxTest = 200)]
    public bool Any_file_name_parses_without_throwing_and_our_names_read_back(string? name, ushort dayOffset, byte segment)
    {
        AuditFiles.TryParse(name ?? "", out _, out _);
        var day = new DateOnly(2000, 1, 1).AddDays(dayOffset);
        return AuditFiles.TryParse(AuditFiles.NameOf(day, segment), out var readDay, out var readSegment) && readDay == day && readSegment == segment;
    }

    [Theory]
    [InlineData("gateway-2026-12-03.jsonl.bak")]
    [InlineData("gateway-2026-13-03.jsonl")]
    [InlineData("gateway-2026-12-03.-1.jsonl")]
    [InlineData("gateway-2026-12-03.99999999999.jsonl")]
    [InlineData("other-2026-12-03.jsonl")]
    [InlineData("gateway-2026-12-03..jsonl")]
    public void Names_that_are_not_ours_are_not_audit_files(string name) =>
        Assert.False(AuditFiles.TryParse(name, out _, out _));

    [Fact]
    public void A_day_continues_in_its_last_segment_while_it_has_room_then_in_the_next()
    {
        var files = new AuditFiles(_directory, maxFileBytes: 100, maxTotalBytes: 10_000, retainDays: 30);
        Assert.Equal((Path.Combine(_directory, "gateway-2026-12-03.jsonl"), 0), files.Choose(Today));

        Write("gateway-2026-12-03.jsonl", 100);
        Assert.Equal((Path.Combine(_directory, "gateway-2026-12-03.1.jsonl"), 1), files.Choose(Today));

        Write("gateway-2026-12-03.1.jsonl", 40);
        Assert.Equal((Path.Combine(_directory, "gateway-2026-12-03.1.jsonl"), 1), files.Choose(Today));

        // Segment 10 sorts after 9 by number, not by name.
        Write("gateway-2026-12-03.9.jsonl", 100);
        Write("gateway-2026-12-03.10.jsonl", 100);
        Assert.Equal((Path.Combine(_directory, "gateway-2026-12-03.11.jsonl"), 11), files.Choose(Today));
    }

    [Fact]
    public void Days_past_the_retention_are_deleted_and_nothing_else()
    {
        var files = new AuditFiles(_directory, maxFileBytes: 100, maxTotalBytes: 10_000, retainDays: 7);
        Write("gateway-2026-11-20.jsonl", 10);
        Write("gateway-2026-11-26.jsonl", 10);
        Write("gateway-2026-11-27.jsonl", 10);
        Write("gateway-2026-12-03.jsonl", 10);
        Write("notes.txt", 10);
        Write("gateway-2026-11-01.jsonl.gz", 10);

        Assert.Equal((2, 0, 20L), files.Enforce(Today, current: null));
        Assert.Equal(
            ["gateway-2026-11-01.jsonl.gz", "gateway-2026-11-27.jsonl", "gateway-2026-12-03.jsonl", "notes.txt"],
            Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Past_the_total_the_oldest_go_first_and_the_current_file_never()
    {
        var files = new AuditFiles(_directory, maxFileBytes: 100, maxTotalBytes: 250, retainDays: 30);
        Write("gateway-2026-12-01.jsonl", 100);
        Write("gateway-2026-12-02.jsonl", 100);
        Write("gateway-2026-12-03.jsonl", 100);
        Write("gateway-2026-12-03.1.jsonl", 100);

        // The oldest is the current file (a clock that went back): kept; the next two go.
        var current = Path.Combine(_directory, "gateway-2026-12-01.jsonl");
        Assert.Equal((0, 2, 200L), files.Enforce(Today, current));
        Assert.Equal(
            ["gateway-2026-12-01.jsonl", "gateway-2026-12-03.1.jsonl"],
            Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal((0, 0, 0L), files.Enforce(Today, current));
    }

    [Fact]
    public async Task A_gateway_flooded_with_unauthenticated_requests_keeps_its_audit_files_within_the_budget()
    {
        const long maxFile = 64 * 1024, maxTotal = 4 * maxFile;
        var kafka = new EmbeddedKafkaFixture();
        await kafka.InitializeAsync();
        try
        {
            await using var gateway = await GatewayServer.StartAsync(kafka.Cluster, new Dictionary<string, string?>
            {
                ["Audit:Directory"] = _directory,
                ["Audit:MaxFileBytes"] = maxFile.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Audit:MaxTotalBytes"] = maxTotal.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            using var anonymous = new HttpClient { BaseAddress = gateway.BaseAddress };

            // ~300 bytes an entry (a long path): ~1.2 MB of entries, about five times the budget.
            const string path = "/api/v1/events/iot.sensors";
            var longPath = "/api/v1/" + new string('p', 120);
            await Parallel.ForEachAsync(Enumerable.Range(0, 4_000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                using var response = await anonymous.PostAsync(i % 2 == 0 ? path : longPath + i, new StringContent("{}"), ct);
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{response.StatusCode}");
            });

            // The writer is behind the answers: wait until the last request's entry is in a file.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            using var last = await anonymous.GetAsync("/api/v1/last-request-marker");
            while (!AuditText().Contains("last-request-marker", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, "the last request was never audited");
                await Task.Delay(100);
            }

            var audit = Directory.GetFiles(_directory, "gateway-*.jsonl");
            var total = audit.Sum(f => new FileInfo(f).Length);
            Assert.True(audit.Length > 1, "one file: the day was never cut into segments");
            // Within the budget, plus what the current segment took since the last retention pass (one segment and one batch).
            Assert.True(total <= maxTotal + maxFile + 64 * 1024, $"{total} bytes in {audit.Length} files");
            Assert.All(audit, f => Assert.True(new FileInfo(f).Length <= maxFile + 64 * 1024, $"{f}: {new FileInfo(f).Length} bytes"));
        }
        finally
        {
            await kafka.DisposeAsync();
        }
    }

    private string AuditText()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in Directory.GetFiles(_directory, "gateway-*.jsonl"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            text.Append(reader.ReadToEnd());
        }

        return text.ToString();
    }

    private void Write(string name, int bytes) => File.WriteAllBytes(Path.Combine(_directory, name), new byte[bytes]);
}
