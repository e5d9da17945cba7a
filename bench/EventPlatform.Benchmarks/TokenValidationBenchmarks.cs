using BenchmarkDotNet.Attributes;
using EventPlatform.Hosting.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Benchmarks;

/// <summary>
/// One bearer token checked as the gateway checks it on every request: the library's full
/// validation (what every request paid before) against <see cref="CachingTokenHandler"/>, which
/// validates a token once and answers repeats from memory.
/// </summary>
[MemoryDiagnoser]
public class TokenValidationBenchmarks
{
    private static readonly JwtOptions Jwt = new() { SecretKey = "benchmark-secret-0123456789-abcdefghijklmnop", Algorithm = "HS256" };

    private readonly JsonWebTokenHandler _library = new() { MapInboundClaims = false };
    private readonly CachingTokenHandler _cached = new(TimeProvider.System, capacity: 4096);
    private readonly TokenValidationParameters _parameters = JwtValidation.Parameters(Jwt);
    private string _token = "";

    [GlobalSetup]
    public void Setup()
    {
        _token = JwtTokenIssuer.Create(Jwt, "load-test", TimeSpan.FromHours(2), DateTimeOffset.UtcNow, new Dictionary<string, object> { ["scope"] = "events:write events:read" });
        if (!_cached.ValidateTokenAsync(_token, _parameters).GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }
    }

    [Benchmark(Baseline = true, Description = "JsonWebTokenHandler, every request")]
    public Task<TokenValidationResult> Uncached() => _library.ValidateTokenAsync(_token, _parameters);

    [Benchmark(Description = "CachingTokenHandler, repeat token")]
    public Task<TokenValidationResult> Cached() => _cached.ValidateTokenAsync(_token, _parameters);
}
