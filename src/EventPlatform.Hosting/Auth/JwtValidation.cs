using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Hosting.Auth;

/// <summary>
/// The one definition of a valid platform token (signature with <c>JWT_SECRET_KEY</c>, the
/// configured algorithm only, an <c>exp</c>, issuer and audience when set), shared by every
/// service that accepts bearer tokens.
/// </summary>
public static class JwtValidation
{
    /// <summary>The claim that names the token's subject.</summary>
    public const string SubjectClaim = "sub";

    /// <summary>The OAuth 2 style claim of space-separated scopes.</summary>
    public const string ScopeClaim = "scope";

    /// <summary>Validation parameters for tokens signed under <paramref name="jwt"/>.</summary>
    /// <param name="jwt">The secret, algorithm, issuer, audience and clock skew.</param>
    /// <param name="time">The clock lifetimes are judged by (the system clock when null).</param>
    public static TokenValidationParameters Parameters(JwtOptions jwt, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        return new()
        {
            IssuerSigningKey = JwtTokenIssuer.SigningKey(jwt),
            ValidAlgorithms = [JwtTokenIssuer.ToSecurityAlgorithm(jwt.Algorithm), jwt.Algorithm],
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            ValidateIssuer = !string.IsNullOrEmpty(jwt.Issuer),
            ValidIssuer = jwt.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(jwt.Audience),
            ValidAudience = jwt.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = jwt.ClockSkew,
            NameClaimType = SubjectClaim,
            LifetimeValidator = (notBefore, expires, _, parameters) => CheckLifetime(notBefore, expires, clock.GetUtcNow().UtcDateTime, parameters.ClockSkew),
        };
    }

    /// <summary>
    /// The library's own lifetime rules, in its order and with its exceptions, on an injected clock
    /// (so that <see cref="CachingTokenHandler"/> and tests judge time by the same clock as the check):
    /// an <c>exp</c> is required; <c>nbf</c> after <c>exp</c> is invalid; valid while
    /// <c>nbf &lt;= now + skew</c> and <c>exp &gt;= now - skew</c>.
    /// </summary>
    internal static bool CheckLifetime(DateTime? notBefore, DateTime? expires, DateTime utcNow, TimeSpan clockSkew)
    {
        if (expires is not { } exp)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time (exp).");
        }

        if (notBefore is { } early && early > exp)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's not-before (nbf) is after its expiry (exp).") { NotBefore = early, Expires = exp };
        }

        if (notBefore is { } nbf && nbf > utcNow + clockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet (nbf).") { NotBefore = nbf };
        }

        if (exp < utcNow - clockSkew)
        {
            throw new SecurityTokenExpiredException("The token has expired (exp).") { Expires = exp };
        }

        return true;
    }

    /// <summary>Why a token was refused, in a few words for an error message.</summary>
    public static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "expired.",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "bad signature.",
        SecurityTokenInvalidAlgorithmException => "signing algorithm not accepted.",
        SecurityTokenNotYetValidException => "not valid yet.",
        SecurityTokenNoExpirationException => "it has no expiry (exp).",
        SecurityTokenNoSubjectException => "it has no subject (sub).",
        SecurityTokenInvalidIssuerException => "wrong issuer.",
        SecurityTokenInvalidAudienceException => "wrong audience.",
        SecurityTokenMalformedException or ArgumentException => "malformed.",
        _ => "rejected.",
    };
}
