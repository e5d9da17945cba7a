using System.Diagnostics.Metrics;
using System.Net;
using EventPlatform.Hosting.Health;
using EventPlatform.Hosting.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventPlatform.Hosting.Tests;

/// <summary>The worker host's listener: liveness, readiness from its checks, metrics, and nothing else.</summary>
public sealed class WorkerHostTests : IAsyncLifetime
{
    private readonly FlippingCheck _check = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = PlatformWorkerApplication.CreateBuilder([], "TestWorker", "http://127.0.0.1:0");
        builder.Services.AddSingleton(_check);
        builder.Services.AddHealthChecks().AddReadinessCheck<FlippingCheck>("flipping");
        _app = builder.BuildWorker();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Liveness_answers_200_even_while_not_ready()
    {
        _check.Healthy = false;

        using var response = await _http.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readiness_follows_the_registered_checks()
    {
        _check.Healthy = false;
        using var notReady = await _http.GetAsync("/health/ready");
        _check.Healthy = true;
        using var ready = await _http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Metrics_are_served_in_the_Prometheus_text_format_with_the_platforms_meters()
    {
        var meter = _app.Services.GetRequiredService<IMeterFactory>().Create("EventPlatform.WorkerTest");
        meter.CreateCounter<long>("worker_test_records_total").Add(3);

        using var response = await _http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains("# TYPE worker_test_records_total counter", text, StringComparison.Ordinal);
        Assert.Contains("worker_test_records_total 3", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/v1/health")]
    [InlineData("/health")]
    public async Task Other_paths_are_not_found(string path)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void An_empty_listener_address_fails_at_start()
    {
        var builder = PlatformWorkerApplication.CreateBuilder(["--TestWorker:Urls="], "TestWorker", "http://127.0.0.1:0");

        Assert.Throws<OptionsValidationException>(() => builder.Build().Services.GetRequiredService<IOptions<WorkerHostOptions>>().Value);
    }

    private sealed class FlippingCheck : IHealthCheck
    {
        public volatile bool Healthy;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("flipped off"));
    }
}
