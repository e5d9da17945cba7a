using EventPlatform.Hosting.Auth;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Gateway.Tests;

/// <summary>The validated-token cache: it saves work and never changes an answer.</summary>
public sealed class TokenCacheTests
{
    private static readonly JwtOptions Jwt = new() { SecretKey = "token-cache-tests-secret-0123456789-abcdef", Algorithm = "HS256", ClockSkew = TimeSpan.FromSeconds(30) };
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public async Task A_valid_token_is_remembered_and_answers_with_the_same_identity()
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var token = JwtTokenIssuer.Create(Jwt, "alice", TimeSpan.FromMinutes(10), Start);

        var first = await handler.ValidateTokenAsync(token, parameters);
        var second = await handler.ValidateTokenAsync(token, parameters);

        Assert.True(first.IsValid);
        Assert.True(second.IsValid);
        Assert.Equal(1, handler.Count);
        Assert.Same(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Equal("alice", second.ClaimsIdentity.FindFirst("sub")?.Value);
    }

    [Fact]
    public async Task A_remembered_token_expires_exactly_when_the_full_check_says_so()
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var uncached = new CachingTokenHandler(_time, capacity: 0);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var token = JwtTokenIssuer.Create(Jwt, "bob", TimeSpan.FromMinutes(10), Start);
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        // Up to exp + skew it is valid, both ways; one second later both refuse it as expired.
        _time.SetUtcNow(Start + TimeSpan.FromMinutes(10) + Jwt.ClockSkew);
        Assert.True((await uncached.ValidateTokenAsync(token, parameters)).IsValid);
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        _time.Advance(TimeSpan.FromSeconds(1));
        var full = await uncached.ValidateTokenAsync(token, parameters);
        var cached = await handler.ValidateTokenAsync(token, parameters);
        Assert.False(full.IsValid);
        Assert.False(cached.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(cached.Exception);
        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task A_token_not_valid_yet_is_refused_until_its_not_before_and_then_remembered()
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var notBefore = Start + TimeSpan.FromMinutes(5);
        var token = JwtTokenIssuer.Create(Jwt, "carol", TimeSpan.FromMinutes(10), notBefore);

        var early = await handler.ValidateTokenAsync(token, parameters);
        Assert.False(early.IsValid);
        Assert.IsType<SecurityTokenNotYetValidException>(early.Exception);
        Assert.Equal(0, handler.Count);

        _time.SetUtcNow(notBefore - Jwt.ClockSkew - TimeSpan.FromSeconds(1));
        Assert.False((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        _time.SetUtcNow(notBefore - Jwt.ClockSkew);
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);
        Assert.Equal(1, handler.Count);
    }

    [Fact]
    public async Task A_cached_token_stays_bound_to_its_not_before_when_the_clock_goes_back()
    {
        var clock = new SteppedClock { Now = Start };
        var handler = new CachingTokenHandler(clock, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, clock);
        var token = JwtTokenIssuer.Create(Jwt, "dave", TimeSpan.FromMinutes(10), Start);
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        // A clock stepped back before nbf - skew: the full check refuses the token, so must the cache.
        clock.Now = Start - Jwt.ClockSkew - TimeSpan.FromSeconds(1);
        var result = await handler.ValidateTokenAsync(token, parameters);
        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenNotYetValidException>(result.Exception);
    }

    [Fact]
    public async Task Hostile_tokens_are_never_remembered_and_never_answered_from_the_cache()
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var honest = JwtTokenIssuer.Create(Jwt, "erin", TimeSpan.FromMinutes(10), Start);
        Assert.True((await handler.ValidateTokenAsync(honest, parameters)).IsValid);

        var parts = honest.Split('.');
        var hostile = new[]
        {
            parts[0] + "." + Base64UrlEncoder.Encode("{\"sub\":\"admin\",\"exp\":" + Start.AddHours(1).ToUnixTimeSeconds() + "}") + "." + parts[2],
            honest + "x",
            honest[..^1],
            parts[0] + "." + parts[1] + ".",
            JwtTokenIssuer.Create(new JwtOptions { SecretKey = "another-secret-another-secret-another-00", Algorithm = "HS256" }, "mallory", TimeSpan.FromMinutes(10), Start),
            "not-a-token",
        };
        foreach (var token in hostile)
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                Assert.False((await handler.ValidateTokenAsync(token, parameters)).IsValid);
            }
        }

        Assert.Equal(1, handler.Count);
    }

    [Fact]
    public async Task A_flood_of_random_tokens_takes_no_memory()
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        for (var i = 0; i < 500; i++)
        {
            Assert.False((await handler.ValidateTokenAsync("eyJhbGciOiJIUzI1NiJ9." + Guid.NewGuid().ToString("N") + ".sig", parameters)).IsValid);
        }

        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task The_cache_never_holds_more_than_its_capacity_and_keeps_answering_right()
    {
        const int Capacity = 8;
        var handler = new CachingTokenHandler(_time, Capacity);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var tokens = Enumerable.Range(0, 50).Select(i => JwtTokenIssuer.Create(Jwt, "user-" + i, TimeSpan.FromMinutes(10), Start)).ToArray();
        foreach (var token in tokens.Concat(tokens))
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            Assert.True(result.IsValid);
            Assert.True(handler.Count <= Capacity, $"{handler.Count} entries, capacity {Capacity}");
        }

        // Expired entries are the first to go when room is needed.
        for (var i = 0; handler.Count < Capacity; i++)
        {
            Assert.True((await handler.ValidateTokenAsync(JwtTokenIssuer.Create(Jwt, "fill-" + i, TimeSpan.FromMinutes(10), Start), parameters)).IsValid);
        }

        _time.Advance(TimeSpan.FromHours(1));
        var late = JwtTokenIssuer.Create(Jwt, "late", TimeSpan.FromMinutes(10), _time.GetUtcNow());
        Assert.True((await handler.ValidateTokenAsync(late, parameters)).IsValid);
        Assert.Equal(1, handler.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task A_token_without_a_subject_is_refused_every_time(string? subject)
    {
        var handler = new CachingTokenHandler(_time, capacity: 16);
        var parameters = JwtValidation.Parameters(Jwt, _time);
        var claims = new Dictionary<string, object> { ["scope"] = "events:write" };
        if (subject is not null)
        {
            claims["sub"] = subject;
        }

        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Expires = Start.AddHours(1).UtcDateTime,
            SigningCredentials = new SigningCredentials(JwtTokenIssuer.SigningKey(Jwt), SecurityAlgorithms.HmacSha256),
        });

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            Assert.False(result.IsValid);
            Assert.IsType<SecurityTokenNoSubjectException>(result.Exception);
            Assert.Equal("it has no subject (sub).", JwtValidation.Describe(result.Exception));
        }

        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public void Tokens_the_platform_mints_carry_a_subject()
    {
        var token = new JsonWebToken(JwtTokenIssuer.Create(Jwt, "minted", TimeSpan.FromMinutes(1), Start));
        Assert.Equal("minted", token.Subject);
    }

    /// <summary>A clock that can be set anywhere, backwards too (as a stepped system clock can).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
