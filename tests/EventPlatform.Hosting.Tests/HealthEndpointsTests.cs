using System.Net;
using System.Text.Json;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace EventPlatform.Hosting.Tests;

/// <summary>The shared health routes' JSON report, and the cached, bounded checks behind readiness.</summary>
public sealed class HealthEndpointsTests
{
    private static readonly HealthCheckContext Context = new();

    [Fact]
    public async Task Readiness_answers_503_with_a_json_report_naming_each_check_and_liveness_runs_none()
    {
        var builder = PlatformWorkerApplication.CreateBuilder([], "HealthTest", "http://127.0.0.1:0");
        builder.Services.AddHealthChecks()
            .AddCheck("up", () => HealthCheckResult.Healthy("fine"), [HealthEndpoints.ReadyTag])
            .AddCheck("down", () => HealthCheckResult.Unhealthy("the store does not answer"), [HealthEndpoints.ReadyTag]);
        await using var app = builder.BuildWorker();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var ready = await http.GetAsync("/health/ready");
        using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        using var live = await http.GetAsync("/health/live");
        using var liveReport = JsonDocument.Parse(await live.Content.ReadAsStringAsync());
        using var post = await http.PostAsync("/health/ready", null);
        await app.StopAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("application/json", ready.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Unhealthy", report.RootElement.GetProperty("status").GetString());
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("up").GetProperty("status").GetString());
        Assert.Equal("Unhealthy", checks.GetProperty("down").GetProperty("status").GetString());
        Assert.Equal("the store does not answer", checks.GetProperty("down").GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Empty(liveReport.RootElement.GetProperty("checks").EnumerateObject());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task A_flood_of_checks_shares_one_measurement_and_reuses_it_while_it_is_fresh()
    {
        var time = new FakeTimeProvider();
        var check = new CountingCheck(time);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => check.CheckHealthAsync(Context)));
        time.Advance(TimeSpan.FromMilliseconds(900));
        await check.CheckHealthAsync(Context);
        Assert.Equal(1, check.Measurements);

        time.Advance(TimeSpan.FromMilliseconds(200));
        await check.CheckHealthAsync(Context);
        Assert.Equal(2, check.Measurements);
    }

    [Fact]
    public async Task A_measurement_that_never_answers_is_unhealthy_after_the_timeout_and_cancelled()
    {
        var time = new FakeTimeProvider();
        var check = new HangingCheck(time);

        var result = check.CheckHealthAsync(Context);
        await check.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(result.IsCompleted);
        // The bound's timer may be made just after the measurement starts: advance until it has fired.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!result.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(check.Timeout);
            await Task.WhenAny(result, Task.Delay(50));
        }

        var answer = await result.WaitAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(HealthStatus.Unhealthy, answer.Status);
        Assert.Contains("no answer within 2 s", answer.Description, StringComparison.Ordinal);
        await check.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_measurement_that_throws_is_unhealthy_with_the_reason()
    {
        var check = new ThrowingCheck(new FakeTimeProvider());

        var answer = await check.CheckHealthAsync(Context);

        Assert.Equal(HealthStatus.Unhealthy, answer.Status);
        Assert.Equal("disk gone", answer.Description);
    }

    private sealed class CountingCheck(TimeProvider time) : CachedHealthCheck(time)
    {
        private int _measurements;

        public int Measurements => Volatile.Read(ref _measurements);

        protected override async Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _measurements);
            await Task.Yield();
            return HealthCheckResult.Healthy();
        }
    }

    private sealed class HangingCheck(TimeProvider time) : CachedHealthCheck(time)
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken)
        {
            using var registration = cancellationToken.Register(() => Cancelled.TrySetResult());
            Started.TrySetResult();
            await Task.Delay(Timeout * 1000, CancellationToken.None);
            return HealthCheckResult.Healthy();
        }
    }

    private sealed class ThrowingCheck(TimeProvider time) : CachedHealthCheck(time)
    {
        protected override Task<HealthCheckResult> MeasureAsync(CancellationToken cancellationToken) => throw new IOException("disk gone");
    }
}
