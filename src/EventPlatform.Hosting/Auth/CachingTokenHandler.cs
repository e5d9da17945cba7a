using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Hosting.Auth;

/// <summary>
/// Validates platform bearer tokens with <see cref="JsonWebTokenHandler"/>, refuses tokens without
/// a subject, and remembers the tokens it found valid, so that a client sending the same token on
/// every request pays for the signature check and the claim parsing once, not per request.
/// </summary>
/// <remarks>
/// <para>
/// Only a token that passed every check (signature, algorithm, issuer, audience, lifetime, subject)
/// is remembered, keyed by its exact text: a token that differs in any character is validated in
/// full, so a forged or tampered token can never be answered from the cache, and a flood of random
/// tokens costs validations but no memory. A remembered token is used only while the time is inside
/// the window the full validation would accept (<c>nbf</c> minus the clock skew to <c>exp</c> plus
/// the clock skew, the same comparisons as the library's lifetime check); outside it the token is
/// validated again, which gives the precise error (expired, not valid yet).
/// </para>
/// <para>
/// At most <see cref="Capacity"/> tokens are kept (tokens longer than <see cref="MaxCachedTokenLength"/>
/// characters are never kept). When it is full, expired entries are dropped; if that frees nothing,
/// the cache is emptied, so a client minting many valid tokens cannot pin the memory or keep other
/// clients out for long. One instance serves one validation configuration (the parameters passed
/// in must not change between calls). Thread-safe.
/// </para>
/// </remarks>
public sealed class CachingTokenHandler : TokenHandler
{
    /// <summary>Tokens longer than this are validated every time (they are never seen in practice).</summary>
    public const int MaxCachedTokenLength = 4096;

    private readonly JsonWebTokenHandler _inner = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<string, Entry> _valid = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _pruneGate = new();

    /// <param name="time">The clock lifetimes are judged by; the validation parameters must use the same one.</param>
    /// <param name="capacity">How many valid tokens to remember; 0 remembers none.</param>
    public CachingTokenHandler(TimeProvider time, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _time = time;
        Capacity = capacity;
    }

    /// <summary>The most tokens remembered at once.</summary>
    public int Capacity { get; }

    /// <summary>Tokens remembered now.</summary>
    public int Count => _valid.Count;

    public override Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(validationParameters);
        if (token is not null && _valid.TryGetValue(token, out var entry))
        {
            if (entry.IsLive(_time.GetUtcNow().UtcDateTime, validationParameters.ClockSkew))
            {
                return Task.FromResult(new TokenValidationResult { IsValid = true, ClaimsIdentity = entry.Identity, SecurityToken = entry.Token });
            }

            _valid.TryRemove(new KeyValuePair<string, Entry>(token, entry));
        }

        return ValidateAndRememberAsync(token!, validationParameters);
    }

    public override Task<TokenValidationResult> ValidateTokenAsync(SecurityToken token, TokenValidationParameters validationParameters) =>
        _inner.ValidateTokenAsync(token, validationParameters);

    public override SecurityToken ReadToken(string token) => _inner.ReadToken(token);

    private async Task<TokenValidationResult> ValidateAndRememberAsync(string token, TokenValidationParameters parameters)
    {
        var result = await _inner.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return result;
        }

        if (string.IsNullOrEmpty(result.ClaimsIdentity?.FindFirst(JwtValidation.SubjectClaim)?.Value))
        {
            // Idempotency keys, rate limits and the audit are scoped by subject: a token without one
            // would share a namespace with every other such token.
            return new TokenValidationResult { IsValid = false, Exception = new SecurityTokenNoSubjectException("The token has no subject (sub) claim.") };
        }

        if (Capacity > 0 && token.Length <= MaxCachedTokenLength && result.SecurityToken is { } validated)
        {
            MakeRoom();
            _valid[token] = new Entry(result.ClaimsIdentity!, validated, validated.ValidFrom, validated.ValidTo);
        }

        return result;
    }

    private void MakeRoom()
    {
        if (_valid.Count < Capacity)
        {
            return;
        }

        lock (_pruneGate)
        {
            if (_valid.Count < Capacity)
            {
                return;
            }

            var now = _time.GetUtcNow().UtcDateTime;
            foreach (var (key, entry) in _valid)
            {
                if (!entry.IsLive(now, TimeSpan.Zero))
                {
                    _valid.TryRemove(new KeyValuePair<string, Entry>(key, entry));
                }
            }

            if (_valid.Count >= Capacity)
            {
                // All live: start over rather than scan again on every insert (amortized: the next
                // scan comes after another Capacity insertions).
                _valid.Clear();
            }
        }
    }

    /// <summary>A valid token's identity and the window in which its lifetime check passes.</summary>
    /// <param name="NotBefore">The token's <c>nbf</c>; <see cref="DateTime.MinValue"/> when it has none.</param>
    /// <param name="Expires">The token's <c>exp</c>.</param>
    private sealed record Entry(ClaimsIdentity Identity, SecurityToken Token, DateTime NotBefore, DateTime Expires)
    {
        /// <summary>The lifetime check's own comparisons: valid while nbf &lt;= now + skew and exp &gt;= now - skew.</summary>
        public bool IsLive(DateTime utcNow, TimeSpan clockSkew) =>
            (NotBefore == DateTime.MinValue || NotBefore <= utcNow + clockSkew) && Expires >= utcNow - clockSkew;
    }
}

/// <summary>A token that passed every other check but names no subject (<c>sub</c>).</summary>
public sealed class SecurityTokenNoSubjectException : SecurityTokenValidationException
{
    public SecurityTokenNoSubjectException()
    {
    }

    public SecurityTokenNoSubjectException(string message)
        : base(message)
    {
    }

    public SecurityTokenNoSubjectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
