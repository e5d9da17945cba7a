using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventPlatform.Hosting.Auth;

/// <summary>Mints bearer tokens the gateway and the registry accept (the <c>token</c> command, tests, the load generator).</summary>
public static class JwtTokenIssuer
{
    public static string Create(JwtOptions options, string subject, TimeSpan lifetime, DateTimeOffset now, IReadOnlyDictionary<string, object>? claims = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, subject)]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            Issuer = options.Issuer,
            Audience = options.Audience,
            SigningCredentials = new SigningCredentials(SigningKey(options), ToSecurityAlgorithm(options.Algorithm)),
            Claims = claims?.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public static SymmetricSecurityKey SigningKey(JwtOptions options) => new(Encoding.UTF8.GetBytes(options.SecretKey));

    public static string ToSecurityAlgorithm(string algorithm) => algorithm switch
    {
        "HS256" => SecurityAlgorithms.HmacSha256,
        "HS384" => SecurityAlgorithms.HmacSha384,
        "HS512" => SecurityAlgorithms.HmacSha512,
        _ => throw new ArgumentException($"Unsupported JWT algorithm '{algorithm}'.", nameof(algorithm)),
    };
}
