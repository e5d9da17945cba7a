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
    public static TokenValidationParameters Parameters(JwtOptions jwt) => new()
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
    };

    /// <summary>Why a token was refused, in a few words for an error message.</summary>
    public static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "expired.",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "bad signature.",
        SecurityTokenInvalidAlgorithmException => "signing algorithm not accepted.",
        SecurityTokenNotYetValidException => "not valid yet.",
        SecurityTokenNoExpirationException => "it has no expiry (exp).",
        SecurityTokenInvalidIssuerException => "wrong issuer.",
        SecurityTokenInvalidAudienceException => "wrong audience.",
        SecurityTokenMalformedException or ArgumentException => "malformed.",
        _ => "rejected.",
    };
}
