using EventPlatform.Hosting.Configuration;
using Microsoft.Extensions.Configuration;

namespace EventPlatform.Hosting.Health;

/// <summary>
/// Measures whether the schema registry at <c>SCHEMA_REGISTRY_URL</c> answers (GET /subjects,
/// as any Confluent-compatible registry serves it), with the configured credentials. Not configured means not connected.
/// Results are kept for a second; thread-safe.
/// </summary>
public sealed class SchemaRegistryProbe : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly HttpClient? _http;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Task<bool>? _inFlight;
    private (bool Result, DateTimeOffset At)? _last;

    public SchemaRegistryProbe(IConfiguration configuration, TimeProvider time)
    {
        _time = time;
        var settings = SchemaRegistryClientSettings.From(configuration);
        if (settings.BaseAddress is { } baseAddress)
        {
            Url = baseAddress;
            _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(1) };
            // A registry that refuses anonymous reads must still count as connected.
            _http.DefaultRequestHeaders.Authorization = settings.Authorization;
        }
    }

    public Uri? Url { get; }

    public bool IsConfigured => _http is not null;

    public Task<bool> CheckAsync()
    {
        if (_http is null)
        {
            return Task.FromResult(false);
        }

        lock (_gate)
        {
            if (_last is { } last && _time.GetUtcNow() - last.At < CacheFor)
            {
                return Task.FromResult(last.Result);
            }

            // Task.Run: a request answered at once (a response already buffered) completes
            // synchronously, and would clear _inFlight before it is set, keeping that answer forever.
            var http = _http;
            return _inFlight ??= Task.Run(() => MeasureAsync(http));
        }
    }

    private async Task<bool> MeasureAsync(HttpClient http)
    {
        bool ok;
        try
        {
            using var response = await http.GetAsync("subjects", HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            ok = response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            ok = false;
        }

        lock (_gate)
        {
            _last = (ok, _time.GetUtcNow());
            _inFlight = null;
        }

        return ok;
    }

    public void Dispose() => _http?.Dispose();
}
