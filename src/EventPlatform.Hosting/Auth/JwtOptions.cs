using System.ComponentModel.DataAnnotations;
using System.Text;

namespace EventPlatform.Hosting.Auth;

/// <summary>
/// How bearer tokens are checked: the seed's <c>JWT_SECRET_KEY</c> and <c>JWT_ALGORITHM</c>.
/// Bound from the <c>Jwt</c> section; the gateway and the schema registry read the same one, so
/// one token works for both (each reads its own scopes from it).
/// </summary>
public sealed class JwtOptions : IValidatableObject
{
    public const string SectionName = "Jwt";

    /// <summary>The HMAC secret (its UTF-8 bytes are the key, as PyJWT uses a string key).</summary>
    [Required(ErrorMessage = "JWT_SECRET_KEY (Jwt:SecretKey) must be set: it is the key that signs and checks API tokens.")]
    public string SecretKey { get; set; } = "";

    /// <summary>HS256, HS384 or HS512.</summary>
    [Required]
    public string Algorithm { get; set; } = "HS256";

    /// <summary>When set, tokens must carry this issuer.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, tokens must carry this audience.</summary>
    public string? Audience { get; set; }

    /// <summary>Tolerance for clocks that disagree, applied to exp and nbf.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The gateway's: when on, a token must carry <c>scope</c> or <c>topics</c> claims naming what
    /// it may do; when off (the default), a token without them may use every topic.
    /// </summary>
    public bool RequireScopes { get; set; }

    /// <summary>
    /// How many validated tokens the gateway remembers (token text → identity, used until the
    /// token's own expiry), so that a client's token is checked once rather than on every request.
    /// 0 turns the cache off.
    /// </summary>
    [Range(0, 1_000_000)]
    public int ValidationCacheSize { get; set; } = 4096;

    public static IReadOnlyList<string> SupportedAlgorithms { get; } = ["HS256", "HS384", "HS512"];

    /// <summary>The smallest key the algorithm allows: as many bytes as its hash.</summary>
    public int MinimumKeyBytes => Algorithm switch
    {
        "HS384" => 48,
        "HS512" => 64,
        _ => 32,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!SupportedAlgorithms.Contains(Algorithm))
        {
            yield return new ValidationResult($"JWT_ALGORITHM must be one of {string.Join(", ", SupportedAlgorithms)}, not '{Algorithm}'.", [nameof(Algorithm)]);
        }
        else if (SecretKey.Length > 0 && Encoding.UTF8.GetByteCount(SecretKey) < MinimumKeyBytes)
        {
            yield return new ValidationResult($"JWT_SECRET_KEY is too short for {Algorithm}: it needs at least {MinimumKeyBytes} bytes.", [nameof(SecretKey)]);
        }
    }
}
